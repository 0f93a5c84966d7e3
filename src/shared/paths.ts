import fs from 'node:fs';
import path from 'node:path';

/**
 * The package's root folder (the one holding package.json, wsdl/ and fixtures/), found by walking
 * up from this file, so it is right both from src/ (tsx, tests) and from dist/src/ (the image).
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'wsdl'))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package root above ${__dirname}`);
    dir = parent;
  }
})();
