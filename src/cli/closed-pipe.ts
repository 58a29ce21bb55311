// `passthru list | head`: once the reader has gone, the rest of the output has nowhere to go. That is
// not an error: the program ends quietly (no stack trace) with the status it has so far. Any other
// failure to write (a full disk behind a redirection) is one line and exit 1.
export function endQuietlyWhenReaderGoes(program: string): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`${program}: cannot write to standard output: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  process.stderr.on('error', () => process.exit(process.exitCode ?? 1));
}
