// One line from the first schema error: where in the file, and what is wrong there.
import type { SchemaError } from './validators.generated.js';

export function describeSchemaError(errors: SchemaError[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'does not match its schema';
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'top level';
  const extra =
    e.params && 'additionalProperty' in e.params
      ? ` '${String(e.params.additionalProperty)}'`
      : e.params && 'allowedValues' in e.params
        ? ` (${(e.params.allowedValues as unknown[]).join(', ')})`
        : '';
  // a pattern is no help to a reader: say which value is wrong instead
  const what = e.keyword === 'pattern' ? 'is not a valid value here' : (e.message ?? e.keyword);
  return `${where}: ${what}${extra}`.slice(0, 200);
}
