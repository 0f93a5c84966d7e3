#!/usr/bin/env node
'use strict';
// Runs the built service when dist/ exists (the container image), the TypeScript sources otherwise.
const fs = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'src', 'main.js');
let main;
if (fs.existsSync(built)) {
  main = require(built);
} else {
  require('tsx/cjs');
  main = require('../src/main.ts');
}
main.runCli(process.argv).catch((err) => {
  process.stderr.write(`fatal: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
