'use strict';
// The benches' launcher of the compiled service (dist/, built by `npm run build`): what the
// container image runs, without tsx compiling TypeScript in the measured process.
const path = require('node:path');

require(path.join(__dirname, '..', 'dist', 'src', 'main.js'))
  .runCli(process.argv)
  .catch((err) => {
    process.stderr.write(`fatal: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
