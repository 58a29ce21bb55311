// Output through write(2) on fd 1 rather than process.stdout: creating that stream (pipe or file
// wrap, the stream machinery) costs ~5 ms at start-up, a fifth of what a call may cost beyond
// `node -e 0`. A non-blocking descriptor that fills up (EAGAIN) hands the rest to the stream.
import { writeSync } from 'node:fs';

export function writeStdout(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return; // the reader has gone (`xmlfix … | head`): nothing more to say
      if (code !== 'EAGAIN') throw err;
      process.stdout.write(buf.subarray(off));
      return;
    }
  }
}
