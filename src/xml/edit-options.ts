// Sub-options in virt-xml's style: `SELECTOR[,key=value...]`. The selector may itself hold commas
// (a filter list like `10de::0300,8086::0300`), so tokens without '=' belong to it.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { parseOnOff, parseMdevTypeName } from './values.js';
import { optionNames, parseProps } from './element-props.js';
import { HOSTDEV_MDEV_PROPS, HOSTDEV_PCI_PROPS, INTERFACE_HOSTDEV_PROPS } from './element-tables.js';
import { PASSTHRU_MDEV_PROPS, PASSTHRU_VF_PROPS, PASSTHRU_VGPU_PROPS } from './metadata-tables.js';

export interface Parsed {
  selector: string;
  options: Map<string, string>;
}

export function splitOptions(flag: string, value: string, allowed: readonly string[]): Parsed {
  const sel: string[] = [];
  const options = new Map<string, string>();
  for (const token of value.split(',')) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      sel.push(token);
      continue;
    }
    const key = token.slice(0, eq);
    if (!allowed.includes(key))
      throw new InputError(`${flag}: unknown option '${printable(key)}' (known: ${allowed.join(', ')})`);
    if (options.has(key)) throw new InputError(`${flag}: option '${key}' given twice`);
    options.set(key, token.slice(eq + 1));
  }
  const selector = sel.join(',');
  if (!selector) throw new InputError(`${flag}: missing the device (e.g. ${flag} 0000:01:00.0)`);
  return { selector, options };
}

export interface HostdevOptions {
  /** XML property values by sub-option name (HOSTDEV_PCI_PROPS); managed is 'yes' unless given. */
  props: Map<string, string>;
  /** The GPU becomes the guest's display (Proxmox's x-vga): see src/xml/primary-gpu.ts. */
  primary?: boolean;
}

export function hostdevOptions(flag: string, o: Map<string, string>): HostdevOptions {
  const props = parseProps(flag, o, HOSTDEV_PCI_PROPS);
  if (!props.has('managed')) props.set('managed', 'yes');
  const out: HostdevOptions = { props };
  if (o.has('primary')) out.primary = parseOnOff(o.get('primary')!, `${flag} primary`);
  return out;
}

export interface MdevOptions {
  type: string;
  parent?: string;
  uuid?: string;
  /** XML property values by sub-option name (HOSTDEV_MDEV_PROPS: uuid, display). */
  props: Map<string, string>;
}

export function mdevOptions(flag: string, p: Parsed): MdevOptions {
  const props = parseProps(flag, p.options, HOSTDEV_MDEV_PROPS);
  const meta = parseProps(flag, p.options, PASSTHRU_MDEV_PROPS);
  const out: MdevOptions = { type: parseMdevTypeName(p.selector, `${flag} type`), props };
  // a PCI parent is recorded by its sysfs name, as the hook looks it up; others (e.g. mtty) as given
  const parent = meta.get('parent');
  if (parent !== undefined) out.parent = parent;
  const uuid = props.get('uuid');
  if (uuid !== undefined) out.uuid = uuid;
  return out;
}

/** A VF's settings: the interface's (MAC, VLAN tag), our metadata's, and how it goes into the domain. */
export interface VfOptions {
  as: 'interface' | 'hostdev';
  /** XML property values by sub-option name (INTERFACE_HOSTDEV_PROPS). */
  iface: Map<string, string>;
  /** XML property values by sub-option name (PASSTHRU_VF_PROPS). */
  vf: Map<string, string>;
  /** The MAC (iface's mac.address), which finds the VF a PF's name picked on an earlier run. */
  mac?: string;
}

export function vfOptions(flag: string, o: Map<string, string>): VfOptions {
  const as = o.get('as') ?? 'interface';
  if (as !== 'interface' && as !== 'hostdev')
    throw new InputError(`${flag}: invalid as '${printable(as)}' (expected interface or hostdev)`);
  const iface = parseProps(flag, o, INTERFACE_HOSTDEV_PROPS);
  const vf = parseProps(flag, o, PASSTHRU_VF_PROPS);
  const min = vf.get('min-rate');
  const max = vf.get('max-rate');
  if (min !== undefined && max !== undefined && max !== '0' && Number(min) > Number(max))
    throw new InputError(`${flag}: min-rate ${min} is above max-rate ${max}`);
  const out: VfOptions = { as, iface, vf };
  const mac = iface.get('mac.address');
  if (mac !== undefined) out.mac = mac;
  return out;
}

export const HOSTDEV_KEYS = [...optionNames(HOSTDEV_PCI_PROPS), 'primary'];
export const MDEV_KEYS = [...optionNames(PASSTHRU_MDEV_PROPS), ...optionNames(HOSTDEV_MDEV_PROPS)];
export const VF_KEYS = [...optionNames(INTERFACE_HOSTDEV_PROPS), ...optionNames(PASSTHRU_VF_PROPS), 'as'];
export const VGPU_KEYS = optionNames(PASSTHRU_VGPU_PROPS);

/** `--add-vgpu PF_OR_VF,type=ID_OR_NAME`: the type as given (checked; resolved against the host later). */
export function vgpuType(flag: string, o: Map<string, string>): string {
  const t = parseProps(flag, o, PASSTHRU_VGPU_PROPS).get('type');
  if (t === undefined)
    throw new InputError(`${flag}: missing type= (a vGPU type ID like 1157, or a profile name like 'NVIDIA L40S-12Q')`);
  return t;
}
