// End-to-end tests of the page (www/index.html) in Chromium: real files in, a ZIP out, every output
// checked with pydicom (and byte for byte against the native CLI when it is built), nothing sent
// anywhere, and the page working offline after the first visit.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  ROOT, CORPUS, SCREENSHOTS, GOOD_COUNT, requirePrerequisites, startServer, launch, recordRequests,
  makeInputFolder, tempDir, verifyOutputs, runCli, ensureDir, python,
} from './helpers.mjs';

const UID_PATH = /^2\.25\.\d+\/2\.25\.\d+\/2\.25\.\d+(_\d+)?\.dcm$/;
const TIMEOUT = 120_000;

let server;
let browser;
let inputDir;

before(async () => {
  requirePrerequisites();
  python(); // make the pydicom venv before the timed parts
  server = await startServer();
  browser = await launch();
  inputDir = makeInputFolder(tempDir());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(context, path = '', pixels = 'none') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(server.url + path);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  // the header tests run without burned-in text cleaning (its own test below); the CLI likewise
  if (pixels) await page.selectOption('[data-testid="pixel-policy"]', pixels);
  return { page, errors };
}

// Polls an async function in the page until `done(value)` or the timeout; returns the last value.
// (page.waitForFunction does not wait for a promise: an async predicate passes at once.)
async function pollInPage(page, fn, arg, done, timeout) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(fn, arg);
    if (done(value) || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitControlled(page) {
  await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
}

async function waitDone(page) {
  await page.waitForSelector('[data-testid="progress"][data-state="done"]', { timeout: TIMEOUT });
}

async function rows(page) {
  return page.$$eval('[data-testid="file-row"]', (trs) =>
    trs.map((tr) => ({ name: tr.cells[0].textContent, status: tr.dataset.status, result: tr.cells[2].textContent })),
  );
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click(`[data-testid="${testid}"]`)]);
  const path = join(tempDir(), dl.suggestedFilename());
  await dl.saveAs(path);
  return path;
}

// What the server may serve: files under www/ and pkg/ (the page's own static files).
function isStaticPath(p) {
  const path = decodeURIComponent(new URL(p, 'http://x').pathname);
  if (path === '/') return true;
  const rel = path.replace(/^\//, '');
  const file = rel.startsWith('pkg/') ? join(process.env.SERVE_PKG_DIR || join(ROOT, 'pkg'), rel.slice(4)) : join(ROOT, 'www', rel);
  return existsSync(file) && statSync(file).isFile();
}

function assertNothingSent(requests, serverLog) {
  const origin = new URL(server.url).origin;
  assert.ok(requests.length > 0, 'requests were recorded');
  for (const r of requests) {
    const u = new URL(r.url);
    if (u.protocol === 'blob:' || u.protocol === 'data:') continue;
    assert.equal(u.origin, origin, `request to another host: ${r.url}`);
    assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
    assert.equal(r.postData, null, `request with a body: ${r.url}`);
    const p = u.pathname;
    assert.ok(isStaticPath(p) || /\/__download__\//.test(p), `not a static file of the page: ${r.url}`);
  }
  for (const l of serverLog) {
    assert.ok(l.method === 'GET' || l.method === 'HEAD', `the server got ${l.method} ${l.path}`);
    assert.ok(isStaticPath(l.path), `the server was asked for ${l.path}`);
  }
}

test('a folder of real files: run, ZIP through the service worker, outputs checked with pydicom, nothing sent', { timeout: 300_000 }, async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  // a browser without the File System Access save dialog: the ZIP streams through the service worker
  await context.addInitScript(() => Object.defineProperty(window, 'showSaveFilePicker', { value: undefined }));
  const requests = recordRequests(context);
  const logStart = server.log.length;
  // ?store=disk: outputs go to the origin-private file system even for a small list
  const { page, errors } = await openPage(context, '?store=disk');
  await waitControlled(page);
  const key = await page.inputValue('#key');
  assert.match(key, /^[0-9a-f]{64}$/, 'a random key is made at start-up');
  assert.equal(await page.getAttribute('body', 'data-store'), 'disk', 'the origin-private file system is available');

  await page.setInputFiles('[data-testid="folder-input"]', inputDir);
  await waitDone(page);
  assert.equal(await page.getAttribute('[data-testid="progress"]', 'data-store'), 'disk');

  const list = await rows(page);
  assert.equal(list.length, GOOD_COUNT + 2);
  const byName = Object.fromEntries(list.map((r) => [r.name.split('/').pop(), r]));
  assert.equal(list.filter((r) => r.status === 'written').length, GOOD_COUNT);
  assert.equal(byName['truncated.dcm'].status, 'failed');
  assert.match(byName['truncated.dcm'].result, /damaged or incomplete \(truncated\)/);
  assert.equal(byName['notes.txt'].status, 'skipped');
  assert.match(byName['notes.txt'].result, /Not a DICOM file/);
  assert.match(await page.textContent('[data-testid="progress"]'), new RegExp(`${GOOD_COUNT} de-identified, 1 failed, 1 skipped`));

  // the ZIP
  const zipPath = await download(page, 'download-zip');
  await page.waitForSelector('[data-testid="download-zip"][data-saved]');
  assert.equal(await page.getAttribute('[data-testid="download-zip"]', 'data-saved'), 'service-worker');
  const cliOut = runCli(key, inputDir);
  const checked = verifyOutputs(zipPath, cliOut);
  assert.equal(checked.files.length, GOOD_COUNT, `ZIP entries: ${checked.names.join(', ')}`);
  for (const f of checked.files) {
    assert.ok(f.ok, `${f.name}: ${f.error}`);
    assert.match(f.name, UID_PATH);
    if (cliOut) assert.equal(f.same_as_cli, true, `${f.name} differs from the CLI's output for the same key`);
  }
  if (cliOut) {
    const cliFiles = verifyOutputs(cliOut).names.filter((n) => n.endsWith('.dcm'));
    assert.equal(cliFiles.length, GOOD_COUNT, 'the CLI wrote as many files');
  } else console.log('# target/release/dicom-deid not built: byte comparison with the CLI skipped');
  // small outputs were appended to the workers' pack files (one per worker), not one file each
  const stored = await page.evaluate(async () => {
    const names = [];
    const walk = async (dir) => {
      for await (const [name, h] of dir.entries()) {
        if (h.kind === 'directory') await walk(h);
        else names.push(name);
      }
    };
    await walk(await navigator.storage.getDirectory());
    return names;
  });
  const packs = stored.filter((n) => /^pack-[0-9a-f]+-\d+\.bin$/.test(n));
  assert.ok(packs.length >= 1 && packs.length <= 8, `packs in the store: ${stored.join(', ')}`);

  // the report (the CLI's schema)
  const report = JSON.parse(readFileSync(await download(page, 'download-report'), 'utf8'));
  assert.equal(report.tool, 'dicom-deid');
  assert.match(report.profile, /PS3\.15/);
  assert.deepEqual(report.summary, { written: GOOD_COUNT, failed: 1, skipped: 1 });
  assert.ok(Array.isArray(report.options) && report.options.includes('clean_descriptors'));
  assert.match(report.key, /generated/);
  assert.equal(report.files.length, GOOD_COUNT + 2);
  const outputs = report.files.filter((f) => f.status === 'written').map((f) => f.output).sort();
  assert.deepEqual(outputs, [...checked.names].sort(), 'report outputs = paths inside the ZIP');
  for (const f of report.files) {
    for (const k of ['input', 'output', 'status', 'reason', 'counts', 'elements']) assert.ok(k in f, `report file has ${k}`);
  }
  if (cliOut) {
    const cli = JSON.parse(readFileSync(join(cliOut, 'dicom-deid-report.json'), 'utf8'));
    assert.deepEqual(Object.keys(report).sort(), Object.keys(cli).sort(), 'same top-level keys as the CLI report');
    assert.deepEqual(report.options, cli.options);
    assert.deepEqual(report.summary, cli.summary);
  }
  const csv = readFileSync(await download(page, 'download-csv'), 'utf8');
  assert.match(csv.split('\r\n')[0], /^input,output,status,reason/);
  assert.equal(csv.trim().split('\r\n').length, GOOD_COUNT + 3);

  // the preview: JPEG 2000 decoded by the pixel module in a worker, before and after; uncompressed CT
  // drawn by the page's reader; header changes listed
  const jp2 = page.locator('[data-testid="file-row"]', { hasText: 'JPEG2000.dcm' }).getByRole('button', { name: /Preview/ });
  await jp2.click();
  await page.waitForFunction(() => ['canvas-before', 'canvas-after'].every((id) => !document.getElementById(id).hidden && document.getElementById(id).width === 256 && document.getElementById(id).height === 1024), null, { timeout: 60_000 });
  assert.ok(await page.locator('#before-msg').isHidden());
  const ct = page.locator('[data-testid="file-row"]', { hasText: 'CT_small.dcm' }).getByRole('button', { name: /Preview/ });
  await ct.click();
  await page.waitForFunction(() => document.getElementById('canvas-before').width === 128 && !document.getElementById('canvas-before').hidden);
  assert.equal(await page.evaluate(() => document.getElementById('canvas-after').width), 128);
  const nonBlack = await page.evaluate(() => {
    const c = document.getElementById('canvas-after');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 10) n++;
    return n;
  });
  assert.ok(nonBlack > 1000, 'the de-identified image is drawn');
  assert.ok((await page.locator('#change-rows tr').count()) > 5, 'header changes are listed');

  ensureDir(SCREENSHOTS);
  await page.screenshot({ path: join(SCREENSHOTS, 'page.png'), fullPage: true });

  assertNothingSent(requests, server.log.slice(logStart));
  assert.deepEqual(errors, [], 'no error in the console');
  await context.close();
});

test('a drop of files and a ZIP archive on the drop zone; ZIP saved through the save-file dialog', { timeout: 180_000 }, async () => {
  // a ZIP of three real files (deflated and stored entries, in a sub-folder), made with Python's zipfile
  const dir = tempDir();
  const zipPath = join(dir, 'study.zip');
  const mk = spawnSync('python3', ['-c', `
import sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w') as z:
    z.write(src + '/CT_small.dcm', 'series1/CT_small.dcm', compress_type=zipfile.ZIP_DEFLATED)
    z.write(src + '/MR_small_implicit.dcm', 'series1/MR_small_implicit.dcm', compress_type=zipfile.ZIP_STORED)
    z.write(src + '/JPEG2000.dcm', 'series2/JPEG2000.dcm', compress_type=zipfile.ZIP_DEFLATED)
`, CORPUS, zipPath]);
  assert.equal(mk.status, 0, String(mk.stderr));
  const payload = [
    { name: 'study.zip', type: 'application/zip', b64: readFileSync(zipPath).toString('base64') },
    { name: 'rgb.dcm', type: 'application/dicom', b64: readFileSync(join(CORPUS, 'examples_rgb_color.dcm')).toString('base64') },
    { name: 'readme.txt', type: 'text/plain', b64: Buffer.from('not DICOM').toString('base64') },
  ];

  const context = await browser.newContext({ acceptDownloads: true });
  // the File System Access save dialog, answered by a writable that keeps the bytes in the page
  await context.addInitScript(() => {
    window.__saved = [];
    window.showSaveFilePicker = async () => ({
      createWritable: async () => new WritableStream({
        write(chunk) { window.__saved.push(new Uint8Array(chunk)); },
        close() { window.__savedDone = true; },
      }),
    });
  });
  const requests = recordRequests(context);
  const logStart = server.log.length;
  const { page, errors } = await openPage(context);
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bin = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bin], f.name, { type: f.type }));
    }
    const zone = document.querySelector('[data-testid="drop-zone"]');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, payload);
  await waitDone(page);
  const list = await rows(page);
  assert.deepEqual(list.map((r) => r.name).sort(), ['readme.txt', 'rgb.dcm', 'study.zip/series1/CT_small.dcm', 'study.zip/series1/MR_small_implicit.dcm', 'study.zip/series2/JPEG2000.dcm']);
  assert.equal(list.filter((r) => r.status === 'written').length, 4);

  await page.click('[data-testid="download-zip"]');
  await page.waitForFunction(() => window.__savedDone === true, null, { timeout: 60_000 });
  assert.equal(await page.getAttribute('[data-testid="download-zip"]', 'data-saved'), 'file');
  const chunks = await page.evaluate(() => window.__saved.map((c) => btoa(Array.from(c, (x) => String.fromCharCode(x)).join(''))));
  const out = join(tempDir(), 'saved.zip');
  writeFileSync(out, Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64'))));
  const checked = verifyOutputs(out);
  assert.equal(checked.files.length, 4);
  for (const f of checked.files) assert.ok(f.ok, `${f.name}: ${f.error}`);

  // "Save into a folder": the folder picker answered with a folder of the origin-private file system
  await page.evaluate(() => {
    window.showDirectoryPicker = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('picked', { create: true });
  });
  await page.click('[data-testid="save-folder"]');
  await page.waitForFunction(() => /Wrote 4 files/.test(document.getElementById('save-status').textContent), null, { timeout: 30_000 });
  const written = await page.evaluate(async () => {
    const out = [];
    const walk = async (dir, prefix) => {
      for await (const [name, h] of dir.entries()) {
        if (h.kind === 'directory') await walk(h, `${prefix}${name}/`);
        else out.push([`${prefix}${name}`, (await h.getFile()).size]);
      }
    };
    await walk(await (await navigator.storage.getDirectory()).getDirectoryHandle('picked'), '');
    return out.sort();
  });
  assert.deepEqual(written.map(([n]) => n), [...checked.names].sort());

  assertNothingSent(requests, server.log.slice(logStart));
  assert.deepEqual(errors, []);
  await context.close();
});

test('offline after the first visit: reload with the network off and process a file (outputs kept in memory)', { timeout: 180_000 }, async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  await context.addInitScript(() => {
    Object.defineProperty(window, 'showSaveFilePicker', { value: undefined });
    // a browser without Web Locks: no disk store, the outputs stay in memory as Blobs
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
  });
  const { page } = await openPage(context);
  await waitControlled(page);
  // the service worker has stored the page, the scripts and the engine (in the cache sw.js names)
  const cache = /const CACHE = '([^']+)'/.exec(readFileSync(join(ROOT, 'www', 'sw.js'), 'utf8'))[1];
  const want = ['/', '/app.js', '/worker.js', '/pkg/dicom_deid.js', '/pkg/dicom_deid_bg.wasm',
    '/pkg/pixel/dicom_deid_pixel_bg.wasm', '/pkg/pixel/models/det.onnx', '/pkg/pixel/models/rec.onnx', '/pkg/pixel/models/rec-fast.onnx', '/pkg/pixel/models/rec-fast.txt'];
  const missing = await pollInPage(page, async ({ cache, want }) => {
    if (!(await caches.has(cache))) return want;
    const keys = (await (await caches.open(cache)).keys()).map((r) => new URL(r.url).pathname);
    return want.filter((p) => !keys.includes(p));
  }, { cache, want }, (m) => m.length === 0, 60_000);
  assert.deepEqual(missing, [], `not stored for offline use in ${cache}`);
  // the service worker is installed and active (no update check pending) before the network goes off
  const state = await pollInPage(page, async () => (await navigator.serviceWorker.getRegistration())?.active?.state, null, (s) => s === 'activated', 30_000);
  assert.equal(state, 'activated');

  await context.setOffline(true);
  const logStart = server.log.length;
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('body', 'data-store'), 'memory');
  await page.setInputFiles('[data-testid="file-input"]', [join(CORPUS, 'CT_small.dcm'), join(CORPUS, 'MR_small_implicit.dcm')]);
  await waitDone(page);
  assert.equal((await rows(page)).filter((r) => r.status === 'written').length, 2);
  const zip = await download(page, 'download-zip');
  const checked = verifyOutputs(zip);
  assert.equal(checked.files.length, 2);
  for (const f of checked.files) assert.ok(f.ok, `${f.name}: ${f.error}`);
  // the browser's own service-worker update check (GET /sw.js) is not covered by Playwright's offline
  // emulation; it is the browser asking for the page's own worker script, and its failure changes nothing
  const reached = server.log.slice(logStart).filter((r) => !(r.method === 'GET' && r.path === '/sw.js'));
  assert.deepEqual(reached, [], 'no request reached the server while offline');
  await context.close();
});

test('cancel stops the workers; the rest runs on when started again', { timeout: 240_000 }, async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const { page } = await openPage(context);
  await page.uncheck('#autostart');
  const ct = readFileSync(join(CORPUS, 'CT_small.dcm'));
  const n = 400;
  const files = Array.from({ length: n }, (_, i) => ({ name: `slice${String(i).padStart(4, '0')}.dcm`, mimeType: 'application/dicom', buffer: ct }));
  await page.setInputFiles('[data-testid="file-input"]', files);
  await page.click('[data-testid="start"]');
  await page.waitForFunction(() => document.querySelector('[data-status="written"]'), null, { timeout: 60_000, polling: 20 });
  await page.click('[data-testid="cancel"]');
  await page.waitForSelector('[data-testid="progress"]:is([data-state="cancelled"], [data-state="done"])', { timeout: 60_000 });
  const state = await page.getAttribute('[data-testid="progress"]', 'data-state');
  if (state === 'cancelled') {
    const st = (await rows(page)).map((r) => r.status);
    assert.ok(st.includes('cancelled'), 'files not done are marked cancelled');
    assert.ok(st.includes('written'));
    await page.click('[data-testid="start"]');
    await waitDone(page);
  } else {
    console.log('# the run finished before the cancel arrived: cancel not exercised');
  }
  const st = (await rows(page)).map((r) => r.status);
  assert.equal(st.filter((s) => s === 'written').length, n);
  await context.close();
});

test('settings: invalid configuration JSON is explained; the engine rejects unknown keys', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context);
  await page.click('#config-box summary');
  await page.fill('#config-text', '{ "options": ');
  await page.click('#config-apply');
  await page.waitForSelector('#config-error:not([hidden])');
  assert.match(await page.textContent('#config-error'), /Not valid JSON/);
  await page.fill('#config-text', '{ "no_such_setting": true }');
  await page.click('#config-apply');
  await page.waitForFunction(() => /unknown|invalid/i.test(document.getElementById('config-error').textContent));
  await page.fill('#config-text', '{ "options": { "retain_uids": true } }');
  await page.click('#config-apply');
  await page.waitForFunction(() => document.getElementById('config-error').hidden);
  assert.equal(await page.isChecked('input[data-option="retain_uids"]'), true);
  // the two date options exclude each other
  await page.check('input[data-option="retain_long_full_dates"]');
  assert.equal(await page.isChecked('input[data-option="retain_long_modified_dates"]'), false);
  await context.close();
});

test('a file larger than the read-ahead limit (16 MiB) is streamed into the engine, its output kept in memory or written to disk: the same output as the CLI', { timeout: 240_000 }, async () => {
  // a 600-frame version of CT_small (about 20 MB), made with pydicom
  const dir = tempDir('dicom-deid-big-');
  const big = join(dir, 'big.dcm');
  const mk = spawnSync(python(), ['-c', `
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
ds.NumberOfFrames = 600
ds.PixelData = ds.PixelData * 600
ds.save_as(sys.argv[2], enforce_file_format=True)
`, join(CORPUS, 'CT_small.dcm'), big], { encoding: 'utf8' });
  assert.equal(mk.status, 0, mk.stderr);
  assert.ok(statSync(big).size > 16 * 1024 * 1024);
  writeFileSync(join(dir, 'mr.dcm'), readFileSync(join(CORPUS, 'MR_small.dcm')));
  for (const store of ['memory', 'disk']) {
    const context = await browser.newContext({ acceptDownloads: true });
    await context.addInitScript(() => Object.defineProperty(window, 'showSaveFilePicker', { value: undefined }));
    const { page, errors } = await openPage(context, `?store=${store}`);
    const key = await page.inputValue('#key');
    await page.setInputFiles('[data-testid="file-input"]', [big, join(dir, 'mr.dcm')]);
    await waitDone(page);
    assert.equal(await page.getAttribute('[data-testid="progress"]', 'data-store'), store);
    assert.deepEqual((await rows(page)).map((r) => r.status), ['written', 'written']);
    const zip = await download(page, 'download-zip');
    const cliOut = runCli(key, dir);
    const checked = verifyOutputs(zip, cliOut);
    assert.equal(checked.files.length, 2);
    for (const f of checked.files) {
      assert.ok(f.ok, `${store}: ${f.name}: ${f.error}`);
      if (cliOut) assert.equal(f.same_as_cli, true, `${store}: ${f.name} differs from the CLI's output`);
    }
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('burned-in text (default phi-only): the pixel module masks dates in real ultrasound images (JPEG 2000 included) exactly as the CLI does', { timeout: 300_000 }, async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 1400 } });
  await context.addInitScript(() => Object.defineProperty(window, 'showSaveFilePicker', { value: undefined }));
  const requests = recordRequests(context);
  const { page, errors } = await openPage(context, '', null);
  assert.equal(await page.inputValue('[data-testid="pixel-policy"]'), 'phi-only', 'pixel cleaning is on by default');
  const dir = tempDir('dicom-deid-px-');
  const src = join(ROOT, '.cache', 'corpus', 'pydicom-data-1.0.0', 'OBXXXX1A.dcm');
  writeFileSync(join(dir, 'ob.dcm'), readFileSync(src));
  writeFileSync(join(dir, 'palette.dcm'), readFileSync(join(CORPUS, 'examples_palette.dcm')));
  writeFileSync(join(dir, 'us-rgb.dcm'), readFileSync(join(ROOT, '.cache', 'corpus', 'pydicom-data-1.0.0', 'US1_UNCR.dcm')));
  // JPEG 2000 (lossless): decoded in the browser, masked, written back as JPEG 2000
  writeFileSync(join(dir, 'us-j2k.dcm'), readFileSync(join(CORPUS, 'examples_jpeg2k.dcm')));
  const key = await page.inputValue('#key');
  await page.setInputFiles('[data-testid="file-input"]', ['ob.dcm', 'palette.dcm', 'us-rgb.dcm', 'us-j2k.dcm'].map((n) => join(dir, n)));
  await page.waitForSelector('[data-testid="progress"][data-state="done"]', { timeout: 240_000 });
  const list = await rows(page);
  assert.deepEqual(list.map((r) => r.status), ['written', 'written', 'written', 'written'], JSON.stringify(list));
  const report = JSON.parse(readFileSync(await download(page, 'download-report'), 'utf8'));
  for (const f of report.files) {
    const masked = f.pixel.boxes.filter((b) => b.masked);
    assert.ok(masked.length >= 2, `${f.input}: ${masked.length} boxes masked`);
    assert.ok(f.pixel.boxes.some((b) => !b.masked), `${f.input}: labels are left`);
  }
  const zipPath = await download(page, 'download-zip');
  const cliOut = runCli(key, dir, 'phi-only');
  const checked = verifyOutputs(zipPath, cliOut);
  assert.equal(checked.files.length, 4);
  for (const f of checked.files) {
    assert.ok(f.ok, `${f.name}: ${f.error}`);
    if (cliOut) assert.equal(f.same_as_cli, true, `${f.name}: the browser's masks differ from the CLI's`);
  }
  assert.ok(checked.files.some((f) => f.transfer_syntax === '1.2.840.10008.1.2.4.90'), 'the JPEG 2000 file stays JPEG 2000');
  // the preview shows the boxes
  await page.locator('[data-testid="file-row"]', { hasText: 'us-rgb.dcm' }).getByRole('button', { name: /Preview/ }).click();
  await page.waitForFunction(() => /Burned-in text/.test(document.getElementById('preview-pixels').textContent), null, { timeout: 30_000 });
  await page.screenshot({ path: join(ensureDir(SCREENSHOTS), 'pixels-preview.png'), fullPage: true });
  // only the page's own files were fetched (the pixel module and the models included)
  for (const r of requests) {
    assert.equal(new URL(r.url).origin, server.url.replace(/\/$/, ''), `request to another origin: ${r.url}`);
    assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
  }
  assert.ok(requests.some((r) => r.url.endsWith('/pkg/pixel/models/det.onnx')), 'the model came from the page origin');
  assert.deepEqual(errors, []);
  await context.close();
});
