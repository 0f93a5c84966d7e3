#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources in a checkout (through tsx), the built dist/ in the container image,
// where src/ is not copied. One process either way, so signals reach the service directly.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
let main;
if (fs.existsSync(path.join(root, 'src', 'main.ts'))) {
  require('tsx/cjs');
  main = require(path.join(root, 'src', 'main.ts'));
} else {
  main = require(path.join(root, 'dist', 'src', 'main.js'));
}
main.runCli(process.argv).catch((err) => {
  process.stderr.write(`fatal: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
