/** Process readings shared by the benchmarks (Linux /proc). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** CPU time (user + system) a process has used, in ms; 0 when it cannot be read. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  if (pid === process.pid) {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th,
    // in clock ticks (100 per second on Linux).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The pid of a local server, to charge its CPU to the work (undefined when not local). */
export function pidOf(name: string): number | undefined {
  try {
    const out = execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim();
    return out === '' ? undefined : Number(out);
  } catch {
    return undefined;
  }
}

/**
 * CPU used by each named process while `work` runs, in ms per unit of work done (`units` is
 * read after the work, e.g. the receipts answered OK).
 */
export async function cpuPerUnit<T>(
  pids: Record<string, number | undefined>,
  work: Promise<T>,
  units: (result: T) => number,
): Promise<[T, string]> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const result = await work;
  const n = Math.max(1, units(result));
  const parts = Object.entries(pids)
    .filter(([, pid]) => pid !== undefined)
    .map(([k, pid]) => `${k} ${((cpuMs(pid) - (before[k] ?? 0)) / n).toFixed(2)} ms`);
  return [result, parts.join(', ')];
}

/**
 * The script that starts the service in a bench's child process: by default the compiled dist/
 * (built here first, as the container image runs it), or the TypeScript sources through tsx
 * with `--from-source` (slower to start, and tsx's transform and source maps weigh on RSS).
 */
export function serviceScript(root: string): string {
  if (process.argv.includes('--from-source')) return path.join(root, 'bin', 'pagopa-adapter.js');
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(root, 'tsconfig.build.json'),
    ],
    {
      stdio: 'inherit',
    },
  );
  return path.join(root, 'bench', 'run-dist.js');
}
