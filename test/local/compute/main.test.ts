import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main, parseArguments, UsageError } from '../../../local/compute/main';
import { computeClientFor } from '../../helpers/computeClient';

const REPO = path.resolve(__dirname, '../../..');
const SUB = '00000000-0000-4000-8000-0000000000c1';

interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `node --import tsx local/compute/main.ts ...` from the repository root, as `npm run emulator` runs it. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/compute/main.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, RPO_CLOCK_SCALE: '3600', ...env },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForLine(cli: RunningCli, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = cli.stdout().match(pattern);
    if (match) return match;
    if (cli.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no line matching ${String(pattern)}; stdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function smallFleetFile(dir: string): Promise<string> {
  const file = path.join(dir, 'fleet.json');
  const fleet = {
    subscriptions: [
      {
        id: SUB,
        resourceGroups: [
          {
            name: 'rg-cli',
            location: 'westeurope',
            virtualMachines: [
              {
                name: 'vm-cli-01',
                size: 'Standard_D2s_v5',
                osDisk: { disk: { name: 'vm-cli-01-os', sku: 'Premium_LRS', sizeGB: 32 } },
                tags: { 'rpo-tier': 'gold' },
              },
            ],
          },
        ],
      },
    ],
  };
  await writeFile(file, JSON.stringify(fleet));
  return file;
}

describe('parseArguments', () => {
  it('defaults to port 8443 on 127.0.0.1 with state in .rpo', () => {
    expect(parseArguments([])).toEqual({
      port: 8443,
      host: '127.0.0.1',
      stateDir: '.rpo',
      computePolicies: {},
      help: false,
    });
  });

  it('reads repeated --compute-policy <policy>=<limit>/<window>[:report] flags', () => {
    expect(
      parseArguments([
        '--compute-policy',
        'PutRestorePointSubscriptionMaximum=20/60s',
        '--compute-policy=LowCostGetResource=5/10m:report',
      ]).computePolicies,
    ).toEqual({
      PutRestorePointSubscriptionMaximum: { limit: 20, windowMs: 60_000, enforce: true },
      LowCostGetResource: { limit: 5, windowMs: 600_000, enforce: false },
    });
  });

  it('reads --flag value and --flag=value', () => {
    expect(parseArguments(['--port=0', '--fleet', 'f.json', '--state-dir', '/tmp/x'])).toMatchObject({
      port: 0,
      fleet: 'f.json',
      stateDir: '/tmp/x',
    });
  });

  it.each([
    [['--port', 'abc'], /--port must be a whole number/],
    [['--port', '70000'], /--port must be a whole number from 0 to 65535/],
    [['--port'], /--port needs a value/],
    [['--colour', 'blue'], /unknown flag --colour/],
    [['--fleet', 'a', '--fleet', 'b'], /--fleet is given twice/],
    [['demo.json'], /unexpected argument "demo.json"/],
    [['--compute-policy', 'HighCostGet30Min=1/30m'], /--compute-policy unknown policy "HighCostGet30Min"/],
    [
      ['--compute-policy', 'PutRestorePointResource=many'],
      /--compute-policy "PutRestorePointResource=many" is not of the form/,
    ],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseArguments(argv)).toThrow(UsageError);
    expect(() => parseArguments(argv)).toThrow(message);
  });
});

describe('main (in process)', () => {
  it('answers a bad command line with exit code 2 and the usage', async () => {
    const errors: string[] = [];
    expect(await main(['--port', 'x'], { err: (line) => errors.push(line), out: () => undefined })).toBe(2);
    expect(errors.join('\n')).toMatch(/--port must be a whole number[\s\S]*usage: npm run emulator/);
  });

  it('answers a missing fleet file with exit code 2 naming --fleet', async () => {
    const errors: string[] = [];
    const code = await main(['--fleet', 'no/such/fleet.json'], {
      err: (line) => errors.push(line),
      out: () => undefined,
    });
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain('--fleet no/such/fleet.json: no such file');
  });

  it('stops at once on a signal that comes while the fleet is still being applied', async () => {
    const lines: string[] = [];
    const state = await mkdtemp(path.join(tmpdir(), 'rpo-emu-stop-'));
    const started = Date.now();
    const code = await main(['--port', '0', '--state-dir', state, '--fleet', 'local/fleets/demo.json'], {
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
      stopSignal: new Promise((resolve) => setTimeout(() => resolve('SIGINT'), 500)),
    });
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain('SIGINT: stopping before the fleet was fully applied');
    // At real time the demo fleet takes about a minute to create; the stop must not wait for it.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('starts with the --compute-policy settings and names the enforced policies', async () => {
    const lines: string[] = [];
    const state = await mkdtemp(path.join(tmpdir(), 'rpo-emu-policy-'));
    const code = await main(
      ['--port', '0', '--state-dir', state, '--compute-policy', 'PutRestorePointSubscriptionMaximum=20/60s'],
      {
        out: (line) => lines.push(line),
        err: (line) => lines.push(line),
        stopSignal: new Promise((resolve) => setTimeout(() => resolve('SIGTERM'), 300)),
      },
    );
    expect(code).toBe(0);
    expect(lines).toContain('Compute policies enforced: PutRestorePointSubscriptionMaximum 20 per 60000 ms');
  });

  it('lists the --compute-policy flag and every policy in --help', async () => {
    const lines: string[] = [];
    expect(await main(['--help'], { out: (line) => lines.push(line) })).toBe(0);
    expect(lines.join('\n')).toMatch(
      /--compute-policy <policy>=<limit>\/<window>\[:report\][\s\S]*GetOperationSubscriptionMaximum/,
    );
  });

  it('refuses a bad RPO_CLOCK_SCALE with exit code 2', async () => {
    const errors: string[] = [];
    const code = await main([], {
      env: { RPO_CLOCK_SCALE: 'fast' },
      err: (line) => errors.push(line),
      out: () => undefined,
    });
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain('RPO_CLOCK_SCALE');
  });
});

describe('npm run emulator (the CLI as a process)', () => {
  it('exits with code 2 and names the flag on a bad argument', async () => {
    const cli = runCli(['--port', 'eighty']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain('--port must be a whole number');
  });

  it('serves the fleet over HTTPS, keeps it across restarts, re-applies it idempotently, stops on signals', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rpo-emulator-cli-'));
    const fleet = await smallFleetFile(dir);
    const stateDir = path.join(dir, 'state');

    // First run: empty state, fleet applied through ARM.
    const first = runCli(['--port', '0', '--state-dir', stateDir, '--fleet', fleet]);
    const [, url] = await waitForLine(first, /listening on (https:\/\/127\.0\.0\.1:\d+)/);
    await waitForLine(first, /Ready\./);
    expect(first.stdout()).toContain(`CA certificate: ${path.join(stateDir, 'certs', 'ca.pem')}`);
    expect(first.stdout()).toMatch(/State snapshot: .*compute\.json \(new\)/);
    expect(first.stdout()).toMatch(/2 resources applied \(1 disk, 0 availability sets, 0 scale sets, 1 VM\)/);
    const caPem = await readFile(path.join(stateDir, 'certs', 'ca.pem'), 'utf8');
    const vm = await computeClientFor({ url: url ?? '', caPem }, SUB).virtualMachines.get('rg-cli', 'vm-cli-01');
    expect(vm.tags).toEqual({ 'rpo-tier': 'gold' });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('SIGTERM: stopping');
    expect(existsSync(path.join(stateDir, 'compute.json'))).toBe(true);

    // Second run, no fleet: the snapshot brings the VM back.
    const second = runCli(['--port', '0', '--state-dir', stateDir]);
    const [, url2] = await waitForLine(second, /listening on (https:\/\/127\.0\.0\.1:\d+)/);
    await waitForLine(second, /Ready\./);
    expect(second.stdout()).toMatch(/restored: 1 VMs, 1 disks/);
    const client2 = computeClientFor({ url: url2 ?? '', caPem }, SUB);
    expect((await client2.virtualMachines.get('rg-cli', 'vm-cli-01')).vmId).toBe(vm.vmId);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);

    // Third run, fleet again on the restored state: applied, nothing changes.
    const third = runCli(['--port', '0', '--state-dir', stateDir, '--fleet', fleet]);
    const [, url3] = await waitForLine(third, /listening on (https:\/\/127\.0\.0\.1:\d+)/);
    await waitForLine(third, /Ready\./);
    const again = await computeClientFor({ url: url3 ?? '', caPem }, SUB).virtualMachines.get('rg-cli', 'vm-cli-01');
    expect(again.vmId).toBe(vm.vmId);
    expect(again.timeCreated).toEqual(vm.timeCreated);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 120_000);

  it('exits with code 1 naming the JSON path when the fleet file is invalid', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rpo-emulator-cli-'));
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ subscriptions: [{ id: 'not-a-guid', resourceGroups: [] }] }));
    const cli = runCli(['--port', '0', '--state-dir', path.join(dir, 'state'), '--fleet', file]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('subscriptions[0].id');
  }, 60_000);
});
