// A positional view of an XML document: every element with the offsets of its start tag and end,
// so edits can splice bytes in and out and leave everything else exactly as it was. saxes reports
// positions (fast-xml-parser does not); the guard has already refused DOCTYPE/ENTITY and bad nesting.
import { SaxesParser } from 'saxes';
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { MAX_ATTRIBUTE_LENGTH, MAX_XML_DEPTH } from './guard.js';

export interface XmlElement {
  name: string; // qualified name as written, e.g. 'passthru:devices'
  attrs: Record<string, string>; // decoded values
  start: number; // offset of '<'
  openEnd: number; // offset just after the start tag's '>'
  closeStart: number; // offset of '</' (= openEnd for a self-closing element)
  end: number; // offset just after the element's last '>'
  selfClosing: boolean;
  /** Character data directly inside it (entities and CDATA decoded by saxes), '' when none. */
  text: string;
  children: XmlElement[];
  parent?: XmlElement;
}

export interface XmlDoc {
  text: string;
  root: XmlElement;
}

/** Parses with the guard's limits on depth and attribute size; errors name `what`. */
export function parseTree(text: string, what = 'XML'): XmlDoc {
  // Trees are never mutated, so the last one is reused when the same text is parsed again
  // (the structural check before the edits, then the first edit).
  if (lastParsed?.text === text) return lastParsed;
  lastParsed = parse(text, what);
  return lastParsed;
}

let lastParsed: XmlDoc | undefined;

function parse(text: string, what: string): XmlDoc {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const body = bom ? text.slice(1) : text;
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let pendingStart = -1;
  parser.on('error', (err) => {
    throw new InputError(`${what} is not well-formed: ${printable(err.message, 160)}`);
  });
  parser.on('opentagstart', (tag) => {
    // saxes has consumed the character after the name; find the '<' that opened this tag.
    let at = parser.position - tag.name.length - 2;
    if (body.slice(at, at + 1 + tag.name.length) !== `<${tag.name}`)
      at = body.lastIndexOf(`<${tag.name}`, parser.position);
    pendingStart = at;
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_XML_DEPTH)
      throw new InputError(
        `${what} is not well-formed: nesting deeper than ${MAX_XML_DEPTH} levels at <${printable(tag.name, 40)}>`,
      );
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes)) {
      attrs[k] = String(v);
      if (attrs[k]!.length > MAX_ATTRIBUTE_LENGTH)
        throw new InputError(
          `${what} is not well-formed: attribute '${printable(k, 40)}' of <${printable(tag.name, 40)}> is over ${MAX_ATTRIBUTE_LENGTH} characters`,
        );
    }
    const el: XmlElement = {
      name: tag.name,
      attrs,
      start: pendingStart + bom,
      openEnd: parser.position + bom,
      closeStart: parser.position + bom,
      end: parser.position + bom,
      selfClosing: tag.isSelfClosing,
      text: '',
      children: [],
    };
    const parent = stack[stack.length - 1];
    if (parent) {
      el.parent = parent;
      parent.children.push(el);
    } else root ??= el;
    stack.push(el);
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', (tag) => {
    const el = stack.pop()!;
    el.end = parser.position + bom;
    el.closeStart = tag.isSelfClosing ? el.openEnd : body.lastIndexOf('</', parser.position - 1) + bom;
  });
  parser.write(body).close();
  if (!root) throw new InputError(`${what} is not well-formed: no root element`);
  return { text, root };
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}
