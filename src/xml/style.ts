// The document's own style, so inserted elements look as if libvirt (or the admin) wrote them:
// quote character, newline, indentation unit.
import type { XmlDoc, XmlElement } from './tree.js';

export interface XmlStyle {
  quote: "'" | '"';
  newline: '\n' | '\r\n';
  unit: string; // one indentation level
}

export function detectStyle(doc: XmlDoc): XmlStyle {
  const { text } = doc;
  // The quote of the first attribute in the document; libvirt writes single quotes.
  const m = /<[A-Za-z_][^\s>/]*\s+[^\s=>]+\s*=\s*(['"])/.exec(text);
  const quote = (m?.[1] as "'" | '"' | undefined) ?? "'";
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  return { quote, newline, unit: detectUnit(doc) };
}

/** The whitespace before `el` on its line, or undefined when something else precedes it there. */
export function indentOf(text: string, el: XmlElement): string | undefined {
  let i = el.start;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  if (i > 0 && text[i - 1] !== '\n') return undefined;
  return text.slice(i, el.start);
}

function detectUnit(doc: XmlDoc): string {
  // The first parent/child pair that both start their own lines gives the unit.
  const queue: XmlElement[] = [doc.root];
  while (queue.length) {
    const el = queue.shift()!;
    const pi = indentOf(doc.text, el) ?? (el === doc.root ? '' : undefined);
    for (const c of el.children) {
      const ci = indentOf(doc.text, c);
      if (pi !== undefined && ci !== undefined && ci.length > pi.length && ci.startsWith(pi))
        return ci.slice(pi.length);
      queue.push(c);
    }
  }
  return '  ';
}
