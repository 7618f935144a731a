#!/usr/bin/env node
// Copies the npm libraries the page uses at run time from node_modules/ into www/vendor/, unchanged,
// with their licenses. Run after `npm ci` (or `npm run vendor`); `--check` only verifies that the
// copies match node_modules/ and exits 1 when they do not.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const nm = join(root, 'node_modules');

// [package, file inside the package, name in www/vendor/]
const FILES = [
  ['fflate', 'esm/browser.js', 'fflate.js'],
  ['fflate', 'LICENSE', 'LICENSE-fflate.txt'],
  ['client-zip', 'index.js', 'client-zip.js'],
  ['client-zip', 'LICENSE.txt', 'LICENSE-client-zip.txt'],
];

const check = process.argv.includes('--check');
let bad = 0;
for (const [pkg, file, dest] of FILES) {
  const src = join(nm, pkg, file);
  if (!existsSync(src)) {
    console.error(`[vendor] ${pkg} is not installed (run npm ci)`);
    process.exit(2);
  }
  const version = JSON.parse(readFileSync(join(nm, pkg, 'package.json'), 'utf8')).version;
  const data = readFileSync(src);
  const target = join(here, dest);
  if (check) {
    const same = existsSync(target) && Buffer.compare(readFileSync(target), data) === 0;
    if (!same) {
      console.error(`[vendor] www/vendor/${dest} differs from ${pkg}@${version}/${file}`);
      bad++;
    }
  } else {
    writeFileSync(target, data);
    console.log(`[vendor] ${pkg}@${version}/${file} -> www/vendor/${dest}`);
  }
}
process.exit(bad ? 1 : 0);
