#!/usr/bin/env node
// Records the platform-specific optional packages that `npm install` left out of
// package-lock.json when their registry metadata could not be read, so that `npm ci` accepts the
// lock file (npm/cli#9846). Each entry is marked optional with its os/cpu, so npm skips it on
// other platforms without downloading anything. Usage: node scripts/lockfile-platform-optionals.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import process from 'node:process';

const lockPath = 'package-lock.json';
let output = '';
try {
  output = execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts'], {
    encoding: 'utf8',
    stdio: 'pipe',
  });
} catch (err) {
  output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
}
const missing = [...output.matchAll(/Missing: (@?[^@\s]+)@\S* from lock file/g)].map((m) => m[1]);
if (missing.length === 0) {
  process.stdout.write('package-lock.json is complete\n');
  process.exit(0);
}

const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'loong64', 'ppc64', 's390x', 'riscv64', 'wasm32'];
for (const name of missing) {
  const parent = Object.values(lock.packages).find((p) => p.optionalDependencies?.[name]);
  if (!parent) throw new Error(`no package in the lock file declares ${name}`);
  const version = parent.optionalDependencies[name].replace(/^[\^~=]/, '');
  const tokens = name.split('/').pop().split('-');
  const os = OS.filter((o) => tokens.includes(o));
  const cpu = CPU.filter(
    (c) => tokens.includes(c) || tokens.some((t) => t.startsWith(c) && c === 'arm' && t === 'arm'),
  );
  const libc = tokens.some((t) => t.startsWith('musl'))
    ? ['musl']
    : tokens.includes('gnu') || tokens.some((t) => t.startsWith('gnu'))
      ? ['glibc']
      : undefined;
  if (os.length === 0 || cpu.length === 0) throw new Error(`cannot tell the platform of ${name}`);
  lock.packages[`node_modules/${name}`] = {
    version,
    optional: true,
    os,
    cpu,
    ...(libc ? { libc } : {}),
  };
  process.stdout.write(`recorded ${name}@${version} (${os.join(',')}/${cpu.join(',')})\n`);
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a.localeCompare(b),
  ),
);
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
