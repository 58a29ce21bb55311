// Byte-exact insertion and removal of elements in a positional tree. An inserted element goes on
// its own line after the previous element sibling (or the parent's last content), indented like
// its siblings; removal takes the element and the whitespace run before it, the exact inverse.
import { serialize, type XmlNode } from './fragment.js';
import { indentOf, type XmlStyle } from './style.js';
import type { XmlDoc, XmlElement } from './tree.js';

export interface Splice {
  start: number;
  end: number;
  text: string;
}

export function applySplices(text: string, splices: Splice[]): string {
  const sorted = [...splices].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const s of sorted) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

/** Indentation for children of `parent`: a child's own, else the parent's plus one unit. */
export function childIndent(doc: XmlDoc, parent: XmlElement, style: XmlStyle): string {
  for (const c of parent.children) {
    const i = indentOf(doc.text, c);
    if (i !== undefined) return i;
  }
  return (indentOf(doc.text, parent) ?? '') + style.unit;
}

/** Inserts `nodes` as children of `parent`, after `after` (a child) or after the last content. */
export function insertChildren(
  doc: XmlDoc,
  style: XmlStyle,
  parent: XmlElement,
  nodes: XmlNode[],
  after?: XmlElement,
): Splice {
  const indent = childIndent(doc, parent, style);
  const body = nodes.map((n) => `${style.newline}${indent}${serialize(n, style, indent)}`).join('');
  if (parent.selfClosing) {
    // `<devices/>` becomes `<devices>…</devices>`: replace the '/>' (and any space before it).
    let slash = parent.openEnd - 2;
    while (slash > parent.start && /\s/.test(doc.text[slash - 1]!)) slash--;
    const parentIndent = indentOf(doc.text, parent) ?? '';
    return { start: slash, end: parent.openEnd, text: `>${body}${style.newline}${parentIndent}</${parent.name}>` };
  }
  if (after) return { start: after.end, end: after.end, text: body };
  // After the parent's last non-whitespace content, so the closing tag keeps its own line.
  let at = parent.closeStart;
  while (at > parent.openEnd && /\s/.test(doc.text[at - 1]!)) at--;
  if (at === parent.openEnd && !doc.text.slice(parent.openEnd, parent.closeStart).includes('\n')) {
    // `<devices></devices>`: open it up over lines.
    const parentIndent = indentOf(doc.text, parent) ?? '';
    return { start: parent.openEnd, end: parent.closeStart, text: `${body}${style.newline}${parentIndent}` };
  }
  return { start: at, end: at, text: body };
}

/** Removes `el` together with the whitespace that precedes it (its newline and indentation). */
export function removeElement(doc: XmlDoc, el: XmlElement): Splice {
  let start = el.start;
  while (start > 0 && /[ \t]/.test(doc.text[start - 1]!)) start--;
  if (doc.text[start - 1] === '\n') {
    start--;
    if (doc.text[start - 1] === '\r') start--;
  } else {
    start = el.start; // inline element: take only the element
  }
  return { start, end: el.end, text: '' };
}

/** True when `el` has no child elements and only whitespace for text. */
export function isBlank(doc: XmlDoc, el: XmlElement, ignoring: XmlElement[] = []): boolean {
  if (el.selfClosing) return true;
  const kids = el.children.filter((c) => !ignoring.includes(c));
  if (kids.length) return false;
  let text = doc.text.slice(el.openEnd, el.closeStart);
  for (const c of el.children) text = text.replace(doc.text.slice(c.start, c.end), '');
  return text.trim() === '';
}
