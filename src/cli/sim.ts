// `passthru sim …`: create and poke simulated hosts (PASSTHRU_SIM files) for tests and demos.
import type { Command } from 'commander';
import { InputError } from '../errors.js';

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('simulated hosts for tests and demos (see PASSTHRU_SIM)');
  sim
    .command('init')
    .description('create a simulated host file from a fixture')
    .option('--fixture <name|path>', 'built-in fixture (workstation, server) or a fixture .json file')
    .option('--generate <n>', 'a synthetic host of N PCI devices instead of a fixture')
    .requiredOption('-o, --output <file>', "sim file to write ('-' = stdout)")
    .action(async (opts: { fixture?: string; generate?: string; output: string }) => {
      if ((opts.fixture === undefined) === (opts.generate === undefined))
        throw new InputError('sim init needs exactly one of --fixture NAME|PATH and --generate N');
      const { loadFixture, hostFromFixture } = await import('../sim/fixture.js');
      const { simFileText } = await import('../sim/persist.js');
      const { writeOutput } = await import('./output.js');
      let fixture;
      if (opts.generate !== undefined) {
        const n = Number(opts.generate);
        if (!/^\d+$/.test(opts.generate) || n < 1 || n > 500_000)
          throw new InputError(`--generate needs a device count 1..500000, got '${opts.generate}'`);
        fixture = (await import('../sim/generate.js')).generateHost(n);
      } else fixture = await loadFixture(opts.fixture!);
      await writeOutput(opts.output, simFileText(hostFromFixture(fixture)));
    });
  sim
    .command('materialize')
    .description('write the simulated host as a real sysfs-like directory tree (for PASSTHRU_ROOT)')
    .requiredOption('-o, --output <dir>', 'directory to create (must not exist)')
    .action(async (opts: { output: string }) => {
      const file = process.env.PASSTHRU_SIM;
      if (!file) throw new InputError('no simulated host: give --sim FILE or set PASSTHRU_SIM');
      const { existsSync } = await import('node:fs');
      if (existsSync(opts.output)) throw new InputError(`'${opts.output}' exists: materialize writes a new directory`);
      const { SimKernel } = await import('../sim/kernel.js');
      const { materialize } = await import('../sim/materialize.js');
      await materialize(SimKernel.load(file, {}), opts.output);
    });
  sim
    .command('in-use')
    .description('mark a device (PCI address) or mdev (UUID) as held open by a VM, or not')
    .argument('<id>', 'PCI address or mdev UUID')
    .argument('<state>', 'on or off')
    .action(async (id: string, state: string) => {
      if (state !== 'on' && state !== 'off') throw new InputError(`in-use state must be 'on' or 'off', got '${state}'`);
      const file = process.env.PASSTHRU_SIM;
      if (!file) throw new InputError('no simulated host: give --sim FILE or set PASSTHRU_SIM');
      const { SimKernel } = await import('../sim/kernel.js');
      const k = SimKernel.load(file);
      if (!k.device(id) && !(k.state.mdevs ?? []).some((m) => m.uuid === id))
        throw new InputError(`no device or mdev '${id}' in the simulated host ${file}`);
      k.setInUse(id, state === 'on');
    });
  sim
    .command('write')
    .description('write to simulated host files in one process, as the kernel would take them (for tests)')
    .argument('<path-data...>', 'pairs: root-relative path, then the data to write')
    .action(async (pairs: string[]) => {
      if (pairs.length % 2 !== 0)
        throw new InputError(`sim write takes path/data pairs, got ${pairs.length} arguments`);
      const file = process.env.PASSTHRU_SIM;
      if (!file) throw new InputError('no simulated host: give --sim FILE or set PASSTHRU_SIM');
      const { SimKernel } = await import('../sim/kernel.js');
      const k = SimKernel.load(file);
      for (let i = 0; i < pairs.length; i += 2) await k.write(pairs[i]!, pairs[i + 1]!);
    });
  sim
    .command('state')
    .description('print the simulated host state as canonical JSON (what tests compare)')
    .action(async () => {
      const file = process.env.PASSTHRU_SIM;
      if (!file) throw new InputError('no simulated host: give --sim FILE or set PASSTHRU_SIM');
      const { SimKernel } = await import('../sim/kernel.js');
      process.stdout.write(`${SimKernel.load(file, {}).canonical()}\n`);
    });
}
