// One description per XML property we read or write, as virtinst's XMLProperty: where it lives in
// the element (`rom/@bar`, or a child's text), the field its readers fill (the hook's model in
// src/xml/model.ts, doctor's start facts, what xmlfix reads back), its CLI sub-option named after
// that path as virt-xml names it (`rom.bar`, older names as aliases) or the flag that writes it, how
// command-line text becomes XML and XML the field's value, and its help. The same table parses
// sub-options, builds elements, reads existing ones, writes the help and docs/xmlfix.md's element
// reference, and feeds the coverage test that fails when the RNG, a golden or the help lacks a
// property (test/unit/xmlfix-element-props.test.ts).
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { el, type XmlNode } from './fragment.js';
import { child, type XmlElement } from './tree.js';

export interface Prop {
  /** virt-xml's sub-option name, the XML path with '.' for '/' and without '@'; absent when no sub-option sets it. */
  option?: string;
  /** Names accepted for it too (earlier xmlfix names). */
  aliases?: readonly string[];
  /** Where it lives, relative to the element: '@managed', 'child/@attr', 'child/grandchild/@attr', or a child's text: 'memory'. */
  path: string;
  /** The model's field the reader fills; absent when nothing downstream reads it. */
  field?: string;
  /** The xmlfix option that writes it when no sub-option does (`variant-driver`). */
  flag?: string;
  /** The libvirt release that first knows it, when newer than some we support: xmlfix checks the host's. */
  libvirt?: string;
  /** The reader refuses the element without it. */
  required?: boolean;
  /** What the value looks like, for the help. */
  values: string;
  /** A valid value, for the help's examples and the coverage test. */
  example: string;
  /** The command line's text to the XML's (throws InputError naming the value); needed with `option` or `flag`. */
  parse?(text: string, what: string): string;
  /** The XML's text to the model's value, checked (throws InputError naming it); absent: the text as is. */
  read?(text: string, what: string): unknown;
}

/** A property's key in value maps: its sub-option name, else its model field, its flag, its path. */
export function keyOf(p: Prop): string {
  return p.option ?? p.field ?? p.flag ?? p.path;
}

/** '@managed' -> [undefined, 'managed']; 'vlan/tag/@id' -> ['vlan/tag', 'id']; 'memory' (its text) -> ['memory', undefined]. */
export function splitPath(path: string): [string | undefined, string | undefined] {
  const at = path.lastIndexOf('@');
  if (at < 0) return [path, undefined];
  return at === 0 ? [undefined, path.slice(1)] : [path.slice(0, at - 1), path.slice(at + 1)];
}

/** How errors name a property: '@trust' -> 'trust', 'vlan/tag/@id' -> '<vlan><tag id>', 'os/loader' -> '<os><loader>'. */
export function pathLabel(path: string): string {
  const [childName, attr] = splitPath(path);
  if (childName === undefined) return attr!;
  const names = childName.split('/');
  const last = names.pop()!;
  return `${names.map((n) => `<${n}>`).join('')}<${attr === undefined ? last : `${last} ${attr}`}>`;
}

/** Every name a table accepts on the command line. */
export function optionNames(props: readonly Prop[]): string[] {
  return props.flatMap((p) => (p.option ? [p.option, ...(p.aliases ?? [])] : []));
}

/** Sub-options (by any of their names) to XML values by canonical option name; unknown keys are the caller's. */
export function parseProps(flag: string, given: Map<string, string>, props: readonly Prop[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of props) {
    if (!p.option) continue;
    const names = [p.option, ...(p.aliases ?? [])].filter((n) => given.has(n));
    if (names.length > 1) throw new InputError(`${flag}: ${names.join(' and ')} are one option; give it once`);
    // the error names the option as it was given, alias or not
    if (names.length === 1) out.set(p.option, p.parse!(given.get(names[0]!)!, `${flag} ${names[0]}`));
  }
  return out;
}

/** The element's own attributes and its children (in table order, one child per path, nested as the path says) for `values` by key. */
export function buildProps(
  props: readonly Prop[],
  values: Map<string, string | undefined>,
): { attrs: Record<string, string>; children: XmlNode[] } {
  const attrs: Record<string, string> = {};
  const kids = new Map<string, { attrs: Record<string, string>; text?: string }>();
  for (const p of props) {
    const v = values.get(keyOf(p));
    if (v === undefined) continue;
    const [childName, attr] = splitPath(p.path);
    if (childName === undefined) attrs[attr!] = v;
    else {
      const kid = kids.get(childName) ?? kids.set(childName, { attrs: {} }).get(childName)!;
      if (attr === undefined) kid.text = v;
      else kid.attrs[attr] = v;
    }
  }
  return { attrs, children: [...kids].map(([path, kid]) => nested(path.split('/'), kid)) };
}

/** ['vlan', 'tag'] with {id: '10'} -> <vlan><tag id='10'/></vlan>; with a text, <memory unit='KiB'>N</memory>. */
function nested([name, ...rest]: string[], kid: { attrs: Record<string, string>; text?: string }): XmlNode {
  if (rest.length) return el(name!, {}, nested(rest, kid));
  const node = el(name!, kid.attrs);
  return kid.text === undefined ? node : { name: node.name, attrs: node.attrs ?? [], text: kid.text };
}

/** The XML text of one property of an element, if present (a child's text trimmed; blank is absent). */
export function textAt(e: XmlElement, path: string): string | undefined {
  const [childName, attr] = splitPath(path);
  let holder: XmlElement | undefined = e;
  for (const name of childName?.split('/') ?? []) holder = holder && child(holder, name);
  if (attr !== undefined) return holder?.attrs[attr];
  const text = holder?.text.trim();
  return text ? text : undefined;
}

/** An existing element's XML texts by key (what is absent is absent). */
export function readProps(e: XmlElement, props: readonly Prop[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of props) {
    const v = textAt(e, p.path);
    if (v !== undefined) out.set(keyOf(p), v);
  }
  return out;
}

/** One property's model value, checked; `what` names it in an error. */
export function readValue(e: XmlElement, p: Prop, what: string): unknown {
  const text = textAt(e, p.path);
  if (text === undefined) return undefined;
  return p.read ? p.read(text, what) : text;
}

/**
 * The model's fields of an existing element, each checked by its property's reader. Errors name the
 * element by `label` and the property by its path ("invalid passthru:vf trust 'x'"); a missing
 * required property is named too ("passthru:vgpu needs address and type").
 */
export function readFields<T>(e: XmlElement, props: readonly Prop[], label: string): T {
  const out: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const p of props) {
    if (!p.field) continue;
    const value = readValue(e, p, `${label} ${pathLabel(p.path)}`);
    if (value !== undefined) out[p.field] = value;
    else if (p.required) missing.push(pathLabel(p.path));
  }
  if (missing.length) throw new InputError(`${label} needs ${missing.join(' and ')}`);
  return out as T;
}

/** The property of a table that fills `field`. */
export function propOf(props: readonly Prop[], field: string): Prop {
  const p = props.find((q) => q.field === field);
  if (!p) throw new Error(`no property fills ${field}`);
  return p;
}

/** `[,managed=yes|no][,boot.order=N]…` */
export function propsHelp(props: readonly Prop[]): string {
  return props
    .filter((p) => p.option)
    .map((p) => `[,${p.option}=${p.values}]`)
    .join('');
}

export const onOff = (text: string, what: string): string => {
  if (text === 'on' || text === 'yes') return 'on';
  if (text === 'off' || text === 'no') return 'off';
  throw new InputError(`invalid ${what} '${printable(text)}' (expected on or off)`);
};

export const yesNo = (text: string, what: string): string => {
  if (text === 'yes' || text === 'on') return 'yes';
  if (text === 'no' || text === 'off') return 'no';
  throw new InputError(`invalid ${what} '${printable(text)}' (expected yes or no)`);
};
