// New elements to insert, serialized in the host document's style (quote, newline, indentation).
// A tiny serializer rather than xmlbuilder2: xmlbuilder2 always writes double-quoted attributes,
// and inserted bytes must match the document they go into (libvirt writes single quotes).
import type { XmlStyle } from './style.js';

export interface XmlNode {
  name: string;
  attrs?: [string, string][];
  children?: XmlNode[];
  text?: string;
}

export function el(
  name: string,
  attrs: Record<string, string | undefined> = {},
  ...kids: (XmlNode | undefined | false)[]
): XmlNode {
  const list = Object.entries(attrs).filter((e): e is [string, string] => e[1] !== undefined);
  return { name, attrs: list, children: kids.filter((k): k is XmlNode => !!k) };
}

export function textEl(name: string, text: string): XmlNode {
  return { name, text };
}

export function escapeAttr(value: string, quote: "'" | '"'): string {
  const s = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return quote === "'" ? s.replace(/'/g, '&apos;') : s.replace(/"/g, '&quot;');
}

export function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Serializes `node` whose first line starts at `indent` (the caller writes that indent). */
export function serialize(node: XmlNode, style: XmlStyle, indent: string): string {
  const q = style.quote;
  const attrs = (node.attrs ?? []).map(([k, v]) => ` ${k}=${q}${escapeAttr(v, q)}${q}`).join('');
  if (node.text !== undefined) return `<${node.name}${attrs}>${escapeText(node.text)}</${node.name}>`;
  const kids = node.children ?? [];
  if (kids.length === 0) return `<${node.name}${attrs}/>`;
  const inner = indent + style.unit;
  const body = kids.map((k) => `${style.newline}${inner}${serialize(k, style, inner)}`).join('');
  return `<${node.name}${attrs}>${body}${style.newline}${indent}</${node.name}>`;
}
