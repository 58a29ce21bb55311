// --validate: the result against libvirt's own RNG schemas from the host (what virt-xml-validate
// does), with xmllint from libxml2-utils.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { InputError, PassthruError } from '../../errors.js';

const SCHEMA_DIR = process.env.PASSTHRU_LIBVIRT_SCHEMAS ?? '/usr/share/libvirt/schemas';

export async function validateXml(text: string, root: string, file: string): Promise<void> {
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
      `--validate: the result for ${file === '-' ? 'stdin' : `'${file}'`} does not validate against ${root}.rng: ${why.replace(/^-:/, 'line ')}`,
    );
  }
}
