// --validate: the result against libvirt's own RNG schemas from the host (what virt-xml-validate
// does, with xmllint from libxml2-utils), then through libvirt's own parser and its define-time
// checks, which the schemas do not express (a boot order used twice, per-device boot beside
// <os><boot>): `virsh --connect test:///default define` of a copy, where virsh is installed. The
// test driver keeps everything in the memory of that one virsh process: nothing is defined anywhere.
import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, PassthruError } from '../../errors.js';
import { virsh } from '../../exec/virsh.js';

const SCHEMA_DIR = process.env.PASSTHRU_LIBVIRT_SCHEMAS ?? '/usr/share/libvirt/schemas';

export async function validateXml(
  text: string,
  root: string,
  file: string,
  note: (line: string) => void,
): Promise<void> {
  const shown = file === '-' ? 'stdin' : `'${file}'`;
  const schema = `${SCHEMA_DIR}/${root}.rng`;
  if (!existsSync(schema))
    throw new PassthruError(
      `--validate: libvirt's schema ${schema} is missing (install libvirt-clients or libvirt-daemon)`,
      2,
    );
  const r = await execa('xmllint', ['--noout', '--relaxng', schema, '-'], {
    input: text,
    reject: false,
    timeout: 30_000,
  }).catch((err: Error) => {
    throw new PassthruError(`--validate: cannot run xmllint (install libxml2-utils): ${err.message}`, 2);
  });
  if (r.exitCode !== 0) {
    const why =
      r.stderr.split('\n').find((l) => l.includes('error') || l.includes('fails')) ?? r.stderr.split('\n')[0] ?? '';
    throw new InputError(
      `--validate: the result for ${shown} does not validate against ${root}.rng: ${why.replace(/^-:/, 'line ')}`,
    );
  }
  const refused = await libvirtDefine(text, root, note);
  if (refused) throw new InputError(`--validate: libvirt refuses the result for ${shown} at define: ${refused}`);
}

/** libvirt's own words when its test driver refuses to define `text`, else undefined. */
export async function libvirtDefine(
  text: string,
  root: string,
  note: (line: string) => void,
): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'xmlfix-validate-'));
  try {
    const copy = join(dir, `${root}.xml`);
    writeFileSync(copy, text);
    const command = root === 'network' ? 'net-define' : 'define';
    const r = await virsh([command, copy], { uri: 'test:///default' });
    if (!r.started) {
      // never started (ENOENT) or timed out; a failed define has an exit code
      note(`--validate: cannot run virsh (libvirt-clients): checked against the RNG schemas only (${r.stderr})`);
      return undefined;
    }
    if (r.code === 0) return undefined;
    const lines = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('error:') && !l.startsWith('error: Failed to define'));
    return (lines[0] ?? r.stderr.trim()).replace(/^error:\s*/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
