// Reads the case files of test/golden/xmlfix (see test/unit/xmlfix-golden-cases.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GOLDEN_DIR = 'test/golden/xmlfix';

export interface GoldenCase {
  name: string;
  host?: string;
  stdin?: string;
  twice: boolean;
  exit: number;
  args: string[];
}

export function readCase(name: string): GoldenCase {
  const c: GoldenCase = { name, twice: false, exit: 0, args: [] };
  for (const line of readFileSync(join(GOLDEN_DIR, `${name}.args`), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [directive, value] = [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)];
    if (directive === '@host') c.host = value;
    else if (directive === '@stdin') c.stdin = value;
    else if (directive === '@twice') c.twice = true;
    else if (directive === '@exit') c.exit = Number(value);
    else if (line.startsWith('@')) throw new Error(`${name}.args: unknown directive ${line}`);
    else c.args.push(line);
  }
  return c;
}

/** Every case name, sorted. */
export const caseNames = (): string[] =>
  readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.args'))
    .map((f) => f.slice(0, -5))
    .sort();
