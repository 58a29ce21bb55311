// Output through write(2) on a descriptor rather than process.stdout: creating that stream (pipe or
// file wrap, the stream machinery) costs ~5 ms at start-up, a fifth of what an xmlfix call may cost
// beyond `node -e 0`. A reader that has gone (`xmlfix … | head`, EPIPE) ends the output quietly.
import { writeSync } from 'node:fs';

let pause: Int32Array | undefined;

/** Writes all of `text` to `fd`; false when the reader has gone (EPIPE). */
export function writeFd(fd: number, text: string | Buffer): boolean {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code !== 'EAGAIN') throw err;
      // a non-blocking descriptor someone else set up, full for now: wait for the reader
      pause ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(pause, 0, 0, 2);
    }
  }
  return true;
}

export function writeStdout(text: string): void {
  writeFd(1, text);
}
