// The sim file shared by real processes: every write saved at once (a SIGKILL right after write k
// leaves exactly writes 1..k), faults from the environment, atomic saves, canonical state.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'passthru.js');
const GPU = '0000:01:00.0';
const WRITES = [
  `sys/bus/pci/devices/${GPU}/driver_override`,
  'vfio-pci',
  `sys/bus/pci/devices/${GPU}/driver/unbind`,
  GPU,
  'sys/bus/pci/drivers_probe',
  GPU,
];

function init(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'passthru-simp-')), 'host.json');
  const r = spawnSync(process.execPath, [cli, 'sim', 'init', '--fixture', 'workstation', '-o', file], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return file;
}
const run = (file: string, args: string[], faults?: object) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PASSTHRU_SIM: file, PASSTHRU_SIM_FAULTS: faults ? JSON.stringify(faults) : '' },
  });
const doc = (file: string) =>
  JSON.parse(readFileSync(file, 'utf8')) as {
    writeLog: { path: string; data: string }[];
    devices: { address: string; driver?: string }[];
  };

describe('sim file across processes', () => {
  it('needs the built CLI', () => expect(existsSync(cli)).toBe(true));

  it('a process killed right after write k leaves exactly writes 1..k', () => {
    for (const k of [1, 2, 3]) {
      const file = init();
      const r = run(file, ['sim', 'write', ...WRITES], { killAfterWrite: k });
      expect(r.signal).toBe('SIGKILL');
      const log = doc(file).writeLog;
      expect(log.map((w) => w.path)).toEqual([WRITES[0], WRITES[2], WRITES[4]].slice(0, k));
      expect(readdirSync(dirname(file)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('the Nth write fails from PASSTHRU_SIM_FAULTS with one line and exit 1; earlier writes stay', () => {
    const file = init();
    const r = run(file, ['sim', 'write', ...WRITES], { failWrite: { n: 2, errno: 'EIO' } });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('EIO');
    expect(doc(file).writeLog).toHaveLength(1);
    expect(doc(file).devices.find((d) => d.address === GPU)!.driver).toBe('nouveau');
  });

  it('a full rebind and its undo give back the byte-identical canonical state', () => {
    const file = init();
    const before = run(file, ['sim', 'state']).stdout;
    expect(run(file, ['sim', 'write', ...WRITES]).status).toBe(0);
    expect(doc(file).devices.find((d) => d.address === GPU)!.driver).toBe('vfio-pci');
    expect(run(file, ['sim', 'state']).stdout).not.toBe(before);
    const undo = [
      `sys/bus/pci/devices/${GPU}/driver/unbind`,
      GPU,
      `sys/bus/pci/devices/${GPU}/driver_override`,
      '\n',
      'sys/bus/pci/drivers_probe',
      GPU,
    ];
    expect(run(file, ['sim', 'write', ...undo]).status).toBe(0);
    expect(run(file, ['sim', 'state']).stdout).toBe(before);
  });

  it('refuses a bad sim file, bad faults and bad fixtures with one line', () => {
    const file = init();
    const bad = run(file, ['list'], { failWrite: { n: 'x' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/failWrite/);
    const missing = run(join(tmpdir(), 'passthru-no-such-host.json'), ['list']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(
      /^passthru: no simulated host file '.*passthru-no-such-host\.json' \(PASSTHRU_SIM\): make one with passthru sim init/,
    );
    const fx = spawnSync(
      process.execPath,
      [cli, 'sim', 'init', '--fixture', '/etc/hostname', '-o', join(tmpdir(), 'x.json')],
      { encoding: 'utf8' },
    );
    expect(fx.status).toBe(2);
    expect(fx.stderr).toMatch(/host fixture '\/etc\/hostname' is not valid JSON/);
  });
});
