// Shared pieces of the end-to-end tests: the server (scripts/serve), Chromium through playwright-core
// (the machine's /usr/bin/chromium; playwright never downloads a browser here), the test files, the
// independent check of outputs with pydicom, and the native CLI for byte-for-byte comparison.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CORPUS = join(ROOT, '.cache', 'corpus', 'pydicom-3.0.2', 'test_files');
export const VENV = join(ROOT, '.cache', 'e2e-venv');
export const SCREENSHOTS = join(ROOT, 'tests', 'e2e', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CLI = join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'release', 'dicom-deid');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Real registry files of different transfer syntaxes, in two sub-folders. */
export const GOOD_FILES = {
  a: ['CT_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm'],
  b: ['JPEG2000.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'image_dfl.dcm', 'examples_rgb_color.dcm', 'rtplan.dcm'],
};
export const GOOD_COUNT = GOOD_FILES.a.length + GOOD_FILES.b.length;

export function requirePrerequisites() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install -y chromium)`);
  if (!existsSync(join(process.env.SERVE_PKG_DIR || join(ROOT, 'pkg'), 'dicom_deid_bg.wasm'))) missing.push('pkg/dicom_deid_bg.wasm (scripts/build-web)');
  if (!existsSync(join(CORPUS, 'CT_small.dcm'))) missing.push('.cache/corpus (scripts/fetch-test-data)');
  if (missing.length) throw new Error(`missing: ${missing.join('; ')} — scripts/test-e2e installs them`);
}

export function tempDir(prefix = 'dicom-deid-e2e-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The input folder of the main test: GOOD_COUNT real files in a/ and b/, a text file (skipped) and the
 * first half of a real file (failed).
 */
export function makeInputFolder(dir) {
  for (const [sub, names] of Object.entries(GOOD_FILES)) {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const n of names) copyFileSync(join(CORPUS, n), join(dir, sub, n));
  }
  writeFileSync(join(dir, 'notes.txt'), 'Scan notes for the study. Not a DICOM file.\n');
  const ct = readFileSync(join(CORPUS, 'CT_small.dcm'));
  writeFileSync(join(dir, 'b', 'truncated.dcm'), ct.subarray(0, Math.floor(ct.length / 2)));
  return dir;
}

/** Starts scripts/serve on a free port; every request it answers is kept in `log`. */
export async function startServer() {
  const child = spawn('python3', [join(ROOT, 'scripts', 'serve'), '0'], {
    cwd: ROOT,
    env: { ...process.env, SERVE_NO_BUILD: '1', SERVE_QUIET: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  let errText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    errText += d;
    for (const line of d.split('\n')) {
      const m = /"(\w+) (\S+) HTTP\/[\d.]+" (\d+)/.exec(line);
      if (m) log.push({ method: m[1], path: m[2], status: Number(m[3]) });
    }
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`scripts/serve did not start: ${errText}`)), 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`scripts/serve exited with ${code}: ${errText}`)));
  });
  return {
    url,
    log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Records every request the context makes: pages, their dedicated workers and the service worker
 * (playwright reports all three on the context).
 */
export function recordRequests(context) {
  const seen = [];
  context.on('request', (r) => {
    seen.push({ method: r.method(), url: r.url(), postData: r.postData(), serviceWorker: !!r.serviceWorker() });
  });
  return seen;
}

export function python() {
  const py = join(VENV, 'bin', 'python');
  if (!existsSync(py)) {
    const mk = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    if (mk.status !== 0) throw new Error('python3 -m venv failed');
    const pip = spawnSync(py, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', 'pydicom==3.0.2'], { stdio: 'inherit' });
    if (pip.status !== 0) throw new Error('pip install pydicom==3.0.2 failed');
  }
  return py;
}

/** Checks a ZIP or folder of outputs with pydicom (tests/e2e/verify_outputs.py). */
export function verifyOutputs(path, compareDir) {
  const args = [join(ROOT, 'tests', 'e2e', 'verify_outputs.py'), path];
  if (compareDir) args.push('--compare', compareDir);
  const r = spawnSync(python(), args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`verify_outputs.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Runs the native CLI on `input` with `key` into a new folder; null when the CLI is not built. */
export function runCli(key, input, pixels = 'none') {
  if (!existsSync(CLI)) return null;
  const out = tempDir('dicom-deid-cli-');
  const r = spawnSync(CLI, ['--key', key, '--jobs', '1', '--pixels', pixels, '--out', out, input], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`dicom-deid CLI failed: ${r.stderr}`);
  return out;
}

export function ensureDir(d) {
  mkdirSync(d, { recursive: true });
  return d;
}

export function fileSize(p) {
  return statSync(p).size;
}
