// A scanner for the plain XML that libvirt writes (ASCII, no entity or character references, no
// CDATA, DOCTYPE or processing instructions besides the XML declaration), building the same
// positional tree as saxes (src/xml/tree.ts) at a fraction of the cost: the hook parses a domain
// on every start, and saxes, interpreted on a fresh node, costs ~3K instructions a character.
// It accepts only documents it can check completely; for anything else (including every document
// that is not well-formed) it returns undefined and the caller parses with saxes, so errors,
// limits and every unusual construct keep saxes' exact behaviour. Accepting a document saxes
// would refuse is the one thing this must never do: each rule below is the stricter side of XML's.
import { MAX_ATTRIBUTE_LENGTH, MAX_XML_DEPTH } from './guard.js';
import type { XmlElement } from './tree.js';

/** Outside tab, newline and printable ASCII (CR included: XML normalizes line ends), or '&' (references need decoding). */
const UNSIMPLE = /[^\t\n\x20-\x25\x27-\x7e]|\]\]>/;
const NAME = '[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?';
const XML_DECL =
  /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.0"|'1\.0')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>/y;
const OPEN_NAME = new RegExp(`<(${NAME})`, 'y');
// attribute values without '<' (not XML), '&' (excluded above) or tab/newline (normalized to spaces by XML)
const ATTRIBUTE = new RegExp(`[ \\t\\n]+(${NAME})[ \\t\\n]*=[ \\t\\n]*(?:"([^"<\\t\\n]*)"|'([^'<\\t\\n]*)')`, 'y');
const OPEN_END = /[ \t\n]*(\/?)>/y;
const CLOSE = new RegExp(`</(${NAME})[ \\t\\n]*>`, 'y');
const SPACE_ONLY = /^[ \t\n]*$/;

/** The root of `body` (the text after a BOM; offsets shifted by `shift`), or undefined: parse it with saxes. */
export function scanSimpleXml(body: string, shift: number): XmlElement | undefined {
  if (UNSIMPLE.test(body)) return undefined;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  if (body.startsWith('<?xml')) {
    XML_DECL.lastIndex = 0;
    if (!XML_DECL.test(body)) return undefined;
    i = XML_DECL.lastIndex;
  }
  for (;;) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    // text: only white space outside the root; inside, no '>' (']]>' is not allowed in text)
    if (stack.length === 0 ? !SPACE_ONLY.test(text) : text.includes('>')) return undefined;
    if (lt < 0) break;
    i = lt;
    const next = body.charCodeAt(i + 1);
    if (next === 0x21 /* ! */) {
      if (!body.startsWith('<!--', i)) return undefined; // CDATA, DOCTYPE
      const end = body.indexOf('-->', i + 4);
      if (end < 0) return undefined;
      const comment = body.slice(i + 4, end);
      if (comment.includes('--') || comment.endsWith('-')) return undefined;
      i = end + 3;
    } else if (next === 0x2f /* / */) {
      CLOSE.lastIndex = i;
      const m = CLOSE.exec(body);
      const el = stack[stack.length - 1];
      if (!m || !el || m[1] !== el.name) return undefined;
      stack.pop();
      el.closeStart = i + shift;
      el.end = CLOSE.lastIndex + shift;
      i = CLOSE.lastIndex;
    } else {
      OPEN_NAME.lastIndex = i;
      const m = OPEN_NAME.exec(body);
      if (!m || (stack.length === 0 && root) || stack.length >= MAX_XML_DEPTH) return undefined; // a second root, PIs, bad names
      let at = OPEN_NAME.lastIndex;
      const attrs: Record<string, string> = {};
      for (;;) {
        ATTRIBUTE.lastIndex = at;
        const a = ATTRIBUTE.exec(body);
        if (!a) break;
        const value = a[2] ?? a[3]!;
        if (a[1] === '__proto__' || Object.hasOwn(attrs, a[1]!) || value.length > MAX_ATTRIBUTE_LENGTH)
          return undefined;
        attrs[a[1]!] = value;
        at = ATTRIBUTE.lastIndex;
      }
      OPEN_END.lastIndex = at;
      const e = OPEN_END.exec(body);
      if (!e) return undefined;
      const openEnd = OPEN_END.lastIndex + shift;
      const selfClosing = e[1] === '/';
      const el: XmlElement = {
        name: m[1]!,
        attrs,
        start: i + shift,
        openEnd,
        closeStart: openEnd,
        end: openEnd,
        selfClosing,
        children: [],
      };
      const parent = stack[stack.length - 1];
      if (parent) {
        el.parent = parent;
        parent.children.push(el);
      } else root = el;
      if (!selfClosing) stack.push(el);
      i = OPEN_END.lastIndex;
    }
  }
  return root && stack.length === 0 ? root : undefined;
}
