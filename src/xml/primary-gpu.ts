// `--add-hostdev GPU,primary=on`: the passed-through GPU becomes the guest's display, as Proxmox's
// x-vga option does: the emulated video goes (libvirt's <video><model type='none'/>, the only way to
// have no emulated VGA; without any <video>, libvirt adds a default one beside <graphics>). The
// GPU's ROM stays visible (rom bar on, libvirt's default): the guest firmware runs it to bring the
// card up as the boot display, so rombar=off is refused with primary=on. libvirt writes no x-vga:
// UEFI guests (OVMF) need none; a BIOS (SeaBIOS) guest would need the legacy VGA ranges that qemu's
// x-vga=on gives, which libvirt does not express, so the edit says so on stderr.
import { buildProps, readFields } from './element-props.js';
import { VIDEO_PROPS } from './element-tables.js';
import { el } from './fragment.js';
import { applySplices, removeElement, type Splice } from './splice.js';
import { children, type XmlElement } from './tree.js';
import { insertDevices, openDomain } from './domain-doc.js';

/** Every `<video>` replaced by one `<video><model type='none'/></video>`; unchanged when that is all there is. */
export function removeEmulatedVideo(text: string): string {
  const d = openDomain(text);
  const videos = children(d.devices, 'video');
  const modelType = (v: XmlElement) => readFields<{ modelType?: string }>(v, VIDEO_PROPS, 'video').modelType;
  if (videos.length === 1 && modelType(videos[0]!) === 'none') return text;
  const splices: Splice[] = videos.map((v) => removeElement(d.doc, v));
  const none = buildProps(VIDEO_PROPS, new Map([['modelType', 'none']]));
  splices.push(insertDevices(d, 'video', [el('video', none.attrs, ...none.children)]));
  return applySplices(text, splices);
}
