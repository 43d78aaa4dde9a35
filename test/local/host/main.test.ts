import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { azuriteConnectionString, freePort } from '../../../local/azurite';
import { FIXTURE_APP } from './fixtureState';

const REPO = path.resolve(__dirname, '../../..');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const MAIN = path.join(REPO, 'local/host/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onOutput` may stop it (e.g. with SIGINT) once it printed what the test waits for. */
function runCli(
  args: string[],
  onOutput?: (stdout: string, stop: () => void) => void,
  env: Record<string, string> = { AzureWebJobsStorage: '' },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run host (local/host/main.ts)', () => {
  it('exits with status 2 and names the flag when a flag is unknown', async () => {
    const run = await runCli(['--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown flag "--bogus"');
    expect(run.stderr).toContain('Usage: npm run host');
  });

  it('exits with status 2 when --app is not a Functions app folder', async () => {
    const run = await runCli(['--app', path.join(REPO, 'local'), '--port', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not a Functions app folder');
  });

  it('hosts an app folder, logs its routes, serves requests and shuts down cleanly on SIGINT', async () => {
    let served: string | undefined;
    let asked = false;
    const run = await runCli(['--app', FIXTURE_APP, '--port', '0'], (stdout, stop) => {
      const match = /Host listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (!match || asked || !stdout.includes('files: [GET]')) return;
      asked = true;
      void fetch(`${match[1]}/api/hello/cli`)
        .then((r) => r.text())
        .then((text) => (served = text))
        .finally(stop);
    });
    expect(served).toBe('Hello, cli');
    expect(run.stdout).toMatch(/hello: \[GET,POST\] http:\/\/127\.0\.0\.1:\d+\/api\/hello\/\{name\?\}/);
    expect(run.stdout).toMatch(/hello \(httpTrigger: GET \/api\/hello\/cli\) Succeeded in \d+ ms/);
    expect(run.stdout).toContain('Host stopping');
    expect(run.code).toBe(0);
  });
  it('exits with status 1 and says to start Azurite when the app storage cannot be reached', async () => {
    const closed = await freePort();
    const storage = azuriteConnectionString({ blob: closed, queue: closed, table: closed });
    const run = await runCli(['--app', FIXTURE_APP, '--port', '0'], undefined, { AzureWebJobsStorage: storage });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`ECONNREFUSED 127.0.0.1:${closed}`);
    expect(run.stderr).toContain('Is Azurite running? Start it with: npm run azurite');
  });
});
