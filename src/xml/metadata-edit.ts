// Our entries under <metadata><passthru:devices xmlns:passthru='…'>: found by namespace URI,
// created on first use, and taken away again (container, then <metadata>) when emptied, so that
// removal after addition gives back the input bytes.
import { el, serialize, type XmlNode } from './fragment.js';
import { applySplices, insertChildren, isBlank, removeElement, type Splice } from './splice.js';
import { indentOf, type XmlStyle } from './style.js';
import { child, type XmlDoc, type XmlElement } from './tree.js';
import { PASSTHRU_META_ROOT, PASSTHRU_NS, PASSTHRU_PREFIX } from './model.js';

// Where libvirt writes <metadata>: after these, before <memory>.
const BEFORE_METADATA = ['name', 'uuid', 'genid', 'title', 'description'];

export interface MetaContainer {
  element: XmlElement;
  prefix: string; // '' for a default namespace
}

/** A child of <metadata> that is our container, by namespace URI whatever the prefix: its prefix, or undefined. */
export function ourPrefix(c: XmlElement): string | undefined {
  const colon = c.name.indexOf(':');
  const prefix = colon < 0 ? '' : c.name.slice(0, colon);
  const local = colon < 0 ? c.name : c.name.slice(colon + 1);
  const ns = prefix ? c.attrs[`xmlns:${prefix}`] : c.attrs.xmlns;
  return local === PASSTHRU_META_ROOT && ns === PASSTHRU_NS ? prefix : undefined;
}

export function findContainer(doc: XmlDoc): MetaContainer | undefined {
  for (const c of child(doc.root, 'metadata')?.children ?? []) {
    const prefix = ourPrefix(c);
    if (prefix !== undefined) return { element: c, prefix };
  }
  return undefined;
}

export function entries(container: MetaContainer | undefined, local: string): XmlElement[] {
  if (!container) return [];
  const name = container.prefix ? `${container.prefix}:${local}` : local;
  return container.element.children.filter((c) => c.name === name);
}

/** Splices that put `entry` (local name + attributes) into our container, replacing `existing`. */
export function upsertEntry(
  doc: XmlDoc,
  style: XmlStyle,
  local: string,
  attrs: Record<string, string | undefined>,
  existing?: XmlElement,
): Splice[] {
  const container = findContainer(doc);
  const prefix = container ? container.prefix : PASSTHRU_PREFIX;
  const node = el(prefix ? `${prefix}:${local}` : local, attrs);
  if (existing) {
    const same = JSON.stringify(existing.attrs) === JSON.stringify(Object.fromEntries(node.attrs ?? []));
    if (same) return [];
    const indent = indentOf(doc.text, existing) ?? '';
    return [{ start: existing.start, end: existing.end, text: serialize(node, style, indent) }];
  }
  if (container) {
    const siblings = entries(container, local);
    return [insertChildren(doc, style, container.element, [node], siblings[siblings.length - 1])];
  }
  const fresh: XmlNode = el(
    `${PASSTHRU_PREFIX}:${PASSTHRU_META_ROOT}`,
    { [`xmlns:${PASSTHRU_PREFIX}`]: PASSTHRU_NS },
    node,
  );
  const metadata = child(doc.root, 'metadata');
  if (metadata) return [insertChildren(doc, style, metadata, [fresh])];
  const anchor = [...doc.root.children].reverse().find((c) => BEFORE_METADATA.includes(c.name));
  return [insertChildren(doc, style, doc.root, [el('metadata', {}, fresh)], anchor)];
}

/** Splices removing `gone` entries; an emptied container goes too, and an emptied <metadata>. */
export function removeEntries(doc: XmlDoc, gone: XmlElement[]): Splice[] {
  if (gone.length === 0) return [];
  const container = findContainer(doc);
  if (!container) return [];
  if (isBlank(doc, container.element, gone)) {
    const metadata = container.element.parent!;
    return [removeElement(doc, isBlank(doc, metadata, [container.element]) ? metadata : container.element)];
  }
  return gone.map((g) => removeElement(doc, g));
}

export { applySplices };
