// One description per XML property we write, as virtinst's XMLProperty: where it lives in the
// element (`rom/@bar`), its CLI sub-option named after that path as virt-xml names it (`rom.bar`,
// with older names as aliases), how a value is parsed from the command line and written to the
// XML, and its help. The same table parses the sub-options, builds the element's children, reads
// an existing element back, writes the help, and feeds the coverage test that fails when the RNG,
// a golden case or the help lacks a property (test/unit/xmlfix-element-props.test.ts).
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { el, type XmlNode } from './fragment.js';
import { child, type XmlElement } from './tree.js';

export interface Prop {
  /** virt-xml's sub-option name, the XML path with '.' for '/' and without '@'. */
  option: string;
  /** Names accepted for it too (earlier xmlfix names). */
  aliases?: readonly string[];
  /** Where it lives, relative to the element: '@managed', 'child/@attr' or 'child/grandchild/@attr'. */
  path: string;
  /** What the value looks like, for the help. */
  values: string;
  /** A valid value, for the help's examples and the coverage test. */
  example: string;
  /** The command line's text to the XML's (throws InputError naming the value). */
  parse(text: string, what: string): string;
}

/** '@managed' -> [undefined, 'managed']; 'rom/@bar' -> ['rom', 'bar']; 'vlan/tag/@id' -> ['vlan/tag', 'id']. */
export function splitPath(path: string): [string | undefined, string] {
  const at = path.lastIndexOf('@');
  return at === 0 ? [undefined, path.slice(1)] : [path.slice(0, at - 1), path.slice(at + 1)];
}

/** Every name a table accepts on the command line. */
export function optionNames(props: readonly Prop[]): string[] {
  return props.flatMap((p) => [p.option, ...(p.aliases ?? [])]);
}

/** Sub-options (by any of their names) to XML values by canonical option name; unknown keys are the caller's. */
export function parseProps(flag: string, given: Map<string, string>, props: readonly Prop[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of props) {
    const names = [p.option, ...(p.aliases ?? [])].filter((n) => given.has(n));
    if (names.length > 1) throw new InputError(`${flag}: ${names.join(' and ')} are one option; give it once`);
    // the error names the option as it was given, alias or not
    if (names.length === 1) out.set(p.option, p.parse(given.get(names[0]!)!, `${flag} ${names[0]}`));
  }
  return out;
}

/** The element's own attributes and its children (in table order, one child per path, nested as the path says) for `values`. */
export function buildProps(
  props: readonly Prop[],
  values: Map<string, string>,
): { attrs: Record<string, string>; children: XmlNode[] } {
  const attrs: Record<string, string> = {};
  const kids = new Map<string, Record<string, string>>();
  for (const p of props) {
    const v = values.get(p.option);
    if (v === undefined) continue;
    const [childName, attr] = splitPath(p.path);
    if (childName === undefined) attrs[attr] = v;
    else (kids.get(childName) ?? kids.set(childName, {}).get(childName)!)[attr] = v;
  }
  return { attrs, children: [...kids].map(([path, a]) => nested(path.split('/'), a)) };
}

/** ['vlan', 'tag'] with {id: '10'} -> <vlan><tag id='10'/></vlan> */
function nested([name, ...rest]: string[], attrs: Record<string, string>): XmlNode {
  return rest.length ? el(name!, {}, nested(rest, attrs)) : el(name!, attrs);
}

/** An existing element's values, by option name (what is absent is absent). */
export function readProps(e: XmlElement, props: readonly Prop[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of props) {
    const [childName, attr] = splitPath(p.path);
    let holder: XmlElement | undefined = e;
    for (const name of childName?.split('/') ?? []) holder = holder && child(holder, name);
    const v = holder?.attrs[attr];
    if (v !== undefined) out.set(p.option, v);
  }
  return out;
}

/** `[,managed=yes|no][,boot.order=N]…` */
export function propsHelp(props: readonly Prop[]): string {
  return props.map((p) => `[,${p.option}=${p.values}]`).join('');
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
