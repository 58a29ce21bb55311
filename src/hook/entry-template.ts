// Fills hooks/qemu's placeholders: @ENV@ (export lines), @NODE@ and @HOOK_JS@ (absolute paths),
// each value shell-quoted. Used by tests and benches to run the entry uninstalled; `passthru install`
// may use it too.
export const ENV_KEYS = [
  'PASSTHRU_SIM',
  'PASSTHRU_ROOT',
  'PASSTHRU_CONFIG',
  'PASSTHRU_STATE_DIR',
  'PASSTHRU_WRITE_TIMEOUT_MS',
  'PASSTHRU_LOCK_WAIT_S',
] as const;

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderHookEntry(
  template: string,
  opts: { node: string; hookJs: string; env: Partial<Record<(typeof ENV_KEYS)[number], string>> },
): string {
  const envLines = ENV_KEYS.filter((k) => opts.env[k] !== undefined)
    .map((k) => `${k}=${shellQuote(opts.env[k]!)}\nexport ${k}`)
    .join('\n');
  return template
    .replace('@ENV@', () => envLines || ':')
    .replace('@NODE@', () => shellQuote(opts.node))
    .replace('@HOOK_JS@', () => shellQuote(opts.hookJs));
}
