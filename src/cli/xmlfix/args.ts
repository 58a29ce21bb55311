// xmlfix's command line. node:util parseArgs rather than commander here: edits apply in the order
// given (`--add-hostdev A --remove-hostdev B`), which parseArgs' ordered tokens keep and commander's
// per-option collection loses; and it costs nothing at start-up.
import { parseArgs } from 'node:util';
import { InputError } from '../../errors.js';
import { printable } from '../../pci/address.js';
import { propsHelp, type Prop } from '../../xml/element-props.js';
import { HOSTDEV_MDEV_PROPS, HOSTDEV_PCI_PROPS, INTERFACE_HOSTDEV_PROPS } from '../../xml/element-tables.js';
import { PASSTHRU_MDEV_PROPS, PASSTHRU_VF_PROPS } from '../../xml/metadata-tables.js';

const aliasHelp = (props: readonly Prop[]): string =>
  props.flatMap((p) => (p.aliases ?? []).map((a) => `${a}=${p.option}`)).join(', ');

export type EditFlag =
  | 'add-hostdev'
  | 'add-mdev'
  | 'add-vf'
  | 'remove-hostdev'
  | 'remove-vf'
  | 'add-pf'
  | 'add-vf-address'
  | 'remove-vf-address'
  | 'add-vgpu'
  | 'remove-vgpu'
  | 'memory-backing'
  | 'variant-driver';
export const DOMAIN_EDITS: EditFlag[] = [
  'add-hostdev',
  'add-mdev',
  'add-vf',
  'remove-hostdev',
  'remove-vf',
  'add-vgpu',
  'remove-vgpu',
  'memory-backing',
  'variant-driver',
];
export const NETWORK_EDITS: EditFlag[] = ['add-pf', 'add-vf-address', 'remove-vf-address'];

export interface Edit {
  flag: EditFlag;
  value: string;
}

export interface XmlfixArgs {
  mode: 'edit' | 'pool' | 'help';
  files: string[]; // '-' = stdin
  edits: Edit[];
  output?: string;
  inPlace: boolean;
  backup?: string;
  check: boolean;
  diff: boolean;
  validate: boolean;
  list: boolean;
  json: boolean;
  all: boolean;
  /** Skip the checks of edits against the host (slots, filters and PF names still need it). */
  noHostCheck: boolean;
  pool?: { name: string; pfs: string[]; vfs: string[]; vlan?: string };
}

/** Every option xmlfix takes; USAGE names each (test/unit/help-docs.test.ts), and the man page and completion come from USAGE. */
export const XMLFIX_OPTIONS = {
  // one flat row per option, alike by design: node's parseArgs reads the table as it stands
  'add-hostdev': { type: 'string', multiple: true },
  'add-mdev': { type: 'string', multiple: true },
  'add-vf': { type: 'string', multiple: true },
  'remove-hostdev': { type: 'string', multiple: true },
  'remove-vf': { type: 'string', multiple: true },
  'add-vgpu': { type: 'string', multiple: true },
  'remove-vgpu': { type: 'string', multiple: true },
  'memory-backing': { type: 'string', multiple: true },
  'variant-driver': { type: 'string', multiple: true },
  'add-pf': { type: 'string', multiple: true },
  'add-vf-address': { type: 'string', multiple: true },
  'remove-vf-address': { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  'in-place': { type: 'boolean', short: 'i' },
  backup: { type: 'string' },
  check: { type: 'boolean' },
  diff: { type: 'boolean' },
  validate: { type: 'boolean' },
  list: { type: 'boolean' },
  json: { type: 'boolean' },
  all: { type: 'boolean' },
  'no-host-check': { type: 'boolean' },
  pf: { type: 'string', multiple: true },
  vf: { type: 'string', multiple: true },
  vlan: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseXmlfixArgs(argv: string[]): XmlfixArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: XMLFIX_OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new InputError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
  const { values, tokens } = parsed;
  const edits: Edit[] = [];
  const files: string[] = [];
  const poolVfs: string[] = [];
  let lastOption: string | undefined;
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option') {
      lastOption = t.name;
      if ((DOMAIN_EDITS as string[]).includes(t.name) || (NETWORK_EDITS as string[]).includes(t.name))
        edits.push({ flag: t.name as EditFlag, value: t.value ?? '' });
    } else if (t.kind === 'positional') {
      // `pool NAME --vf A B C`: bare words after --vf are more VF addresses.
      if (positionals[0] === 'pool' && positionals.length >= 2 && lastOption === 'vf') poolVfs.push(t.value);
      else positionals.push(t.value);
    } else lastOption = undefined;
  }
  const base = {
    edits,
    inPlace: !!values['in-place'],
    check: !!values.check,
    diff: !!values.diff,
    validate: !!values.validate,
    list: !!values.list,
    json: !!values.json,
    all: !!values.all,
    noHostCheck: !!values['no-host-check'],
  };
  if (values.help) return { mode: 'help', files, ...base };
  const out: XmlfixArgs = { mode: 'edit', files, ...base };
  if (values.output !== undefined) out.output = values.output;
  if (values.backup !== undefined) out.backup = values.backup;

  if (positionals[0] === 'pool') {
    if (positionals.length < 2) throw new InputError('pool: missing the network NAME (xmlfix pool NAME --pf DEV)');
    if (positionals.length > 2) throw new InputError(`pool: unexpected argument '${printable(positionals[2]!)}'`);
    if (edits.length)
      throw new InputError('pool: edits like --add-hostdev apply to an existing file, not to a new pool');
    const vfs = [...(values.vf ?? []).flatMap((v) => v.split(',')), ...poolVfs].filter((v) => v !== '');
    out.mode = 'pool';
    out.pool = { name: positionals[1]!, pfs: values.pf ?? [], vfs };
    if (values.vlan !== undefined) out.pool.vlan = values.vlan;
    return out;
  }
  if (values.pf || values.vf || values.vlan !== undefined)
    throw new InputError('--pf, --vf and --vlan belong to `xmlfix pool NAME` (a file literally named pool is ./pool)');
  files.push(...positionals);
  if (out.inPlace) {
    if (files.length === 0) throw new InputError('-i needs at least one FILE');
    if (files.includes('-')) throw new InputError('-i cannot edit stdin in place');
    if (out.output !== undefined) throw new InputError('-o and -i cannot be used together');
  } else {
    if (files.length > 1)
      throw new InputError(
        `more than one input file (${files.map((f) => printable(f)).join(', ')}); use -i to edit several in place`,
      );
    if (files.length === 0) files.push('-');
    if (out.backup !== undefined) throw new InputError('--backup goes with -i');
  }
  if ([out.check, out.diff, out.list].filter(Boolean).length > 1)
    throw new InputError('--check, --diff and --list exclude each other');
  return out;
}

export const USAGE = `usage: xmlfix [FILE|-] [EDIT...] [-o|--output OUT | -i|--in-place [FILE...]] [--backup SUFFIX] [--check] [--diff] [--validate] [--no-host-check]
       xmlfix pool NAME (--pf DEV | --vf ADDR...) [--vlan ID]
domain edits:
  --add-hostdev ADDR|SLOT|FILTER${propsHelp(HOSTDEV_PCI_PROPS)}[,primary=on]
      FILTER is lspci -d's vendor:device[:class[:prog-if]] (10de::0300, 10de:*:03xx); one free match,
      or --all for every one; a SLOT (01:00) is one multifunction device; primary=on: the guest's display
      (older names: ${aliasHelp(HOSTDEV_PCI_PROPS)})
  --add-mdev TYPE${propsHelp(PASSTHRU_MDEV_PROPS)}${propsHelp(HOSTDEV_MDEV_PROPS)}
  --add-vf VF_ADDR|PF_NETDEV${propsHelp(INTERFACE_HOSTDEV_PROPS)}${propsHelp(PASSTHRU_VF_PROPS)}[,as=interface|hostdev]
      (older names: ${aliasHelp(INTERFACE_HOSTDEV_PROPS)})
  --add-vgpu PF_ADDR|VF_ADDR,type=ID|NAME  (NVIDIA vGPU 17+: a VF with nvidia/current_vgpu_type, as hostdev managed=no)
  --memory-backing MODE  (hugepages, threads=N, or hugepages,threads=N: for a large guest whose RAM is pinned at start)
  --variant-driver ADDR[=MODULE]  <driver model=…> on that hostdev (libvirt 10.0+; default: what modules.alias offers)
  --remove-hostdev ADDR|SLOT|UUID|all --remove-vf ADDR|MAC --remove-vgpu ADDR    --list [--json]
network edits:
  --add-pf DEV    --add-vf-address ADDR    --remove-vf-address ADDR
exit: 0 done, 1 --check found changes, 2 bad usage or input    -h, --help: this text
`;
