import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/shared/config';
import { createLogger } from '../../src/shared/logger';
import { Lifecycle } from '../../src/shared/lifecycle';
import { startService, type Role, type RunningService } from '../../src/service';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A config for tests: free ports, silent logs, and whatever the test overrides. */
export function testConfig(env: Record<string, string>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HTTP_PORT: '0',
    SOAP_PORT: '0',
    SIMULATOR_PORT: '0',
    HTTP_BIND_ADDRESS: '127.0.0.1',
    ...env,
  });
}

/** Starts the service in this process; `stop` drains it as SIGTERM would. */
export async function startTestService(
  config: Config,
  role: Role = 'all',
): Promise<RunningService & { stop: () => Promise<boolean> }> {
  const logger = createLogger(config.logLevel);
  const lifecycle = new Lifecycle(logger);
  const running = await startService(config, role, logger, lifecycle);
  return { ...running, stop: () => lifecycle.stop(config.shutdownTimeoutMs) };
}

/** Runs the real command line (`bin/pagopa-adapter.js`, as `npm start` does) in a child process. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
    ...env,
  };
  return spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'pagopa-adapter.js'), ...args], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and resolves with its exit code (or the signal that ended it). */
export function waitForExit(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Polls `probe` until it returns true or `timeoutMs` passes. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
