// Node built-ins for xmlfix's start-up path, loaded with require(). An ESM `import … from 'node:fs'`
// builds a facade over every export, and reading fs's lazy getters (ReadStream, promises) loads the
// whole streams machinery: ~5-8 ms of a call that never streams anything.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const fs = load('node:fs') as typeof import('node:fs');
export const util = load('node:util') as typeof import('node:util');
