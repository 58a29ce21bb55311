// `xmlfix --memory-backing hugepages|threads=N|hugepages,threads=N`: what keeps a large passthrough
// guest's start short (its RAM is pinned before it runs). Adds <memoryBacking> where libvirt writes
// it (after memory/currentMemory/blkiotune/memtune), or the missing children to an existing one:
// <hugepages/> and <allocation mode='immediate' threads='N'/>. Idempotent; an <allocation> that says
// something else is left to the administrator (one line naming it), never overwritten.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { buildProps, readFields } from './element-props.js';
import { MEMORY_BACKING_PROPS } from './element-tables.js';
import { el, type XmlNode } from './fragment.js';
import { applySplices, insertChildren, type Splice } from './splice.js';
import { detectStyle } from './style.js';
import { child, parseTree } from './tree.js';

export interface MemoryBackingOptions {
  hugepages: boolean;
  threads?: number;
}

/** Elements that libvirt writes before <memoryBacking>, in its order. */
const BEFORE = [
  'name',
  'uuid',
  'genid',
  'title',
  'description',
  'metadata',
  'maxMemory',
  'memory',
  'currentMemory',
  'blkiotune',
  'memtune',
];

export function memoryBackingOptions(flag: string, value: string): MemoryBackingOptions {
  const out: MemoryBackingOptions = { hugepages: false };
  for (const part of value.split(',')) {
    if (part === 'hugepages') out.hugepages = true;
    else if (/^threads=\d{1,4}$/.test(part) && Number(part.slice(8)) >= 1) out.threads = Number(part.slice(8));
    else
      throw new InputError(
        `${flag}: '${printable(part)}' is not hugepages or threads=N (N from 1: preallocation threads)`,
      );
  }
  return out;
}

export function setMemoryBacking(text: string, want: MemoryBackingOptions): string {
  const doc = parseTree(text);
  if (doc.root.name !== 'domain')
    throw new InputError(`expected a libvirt <domain> document, found <${doc.root.name}>`);
  const style = detectStyle(doc);
  const mb = child(doc.root, 'memoryBacking');
  const kids: XmlNode[] = [];
  if (want.hugepages && !child(mb, 'hugepages')) kids.push(el('hugepages'));
  const now =
    mb &&
    readFields<{ allocationMode?: string; allocationThreads?: number }>(mb, MEMORY_BACKING_PROPS, 'memoryBacking');
  if (want.threads !== undefined) {
    const allocation = buildProps(
      MEMORY_BACKING_PROPS,
      new Map([
        ['allocationMode', 'immediate'],
        ['allocationThreads', String(want.threads)],
      ]),
    ).children;
    if (!child(mb, 'allocation')) kids.push(...allocation);
    else if (now?.allocationThreads !== want.threads || (now.allocationMode ?? 'immediate') !== 'immediate') {
      const a = child(mb, 'allocation')!.attrs;
      throw new InputError(
        `the domain already has <allocation mode='${printable(a.mode ?? '')}' threads='${printable(a.threads ?? '')}'>: change it by hand (virsh edit)`,
      );
    }
  }
  if (kids.length === 0) return text;
  const splices: Splice[] = [];
  if (mb) splices.push(insertChildren(doc, style, mb, kids, mb.children.at(-1)));
  else {
    const after = [...doc.root.children].reverse().find((c) => BEFORE.includes(c.name));
    splices.push(insertChildren(doc, style, doc.root, [el('memoryBacking', {}, ...kids)], after));
  }
  return applySplices(text, splices);
}
