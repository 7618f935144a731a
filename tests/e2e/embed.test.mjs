// The embedding API (www/embed.js) and the example portal page (www/embed-example.html).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS, requirePrerequisites, startServer, launch, recordRequests } from './helpers.mjs';

let server;
let browser;

before(async () => {
  requirePrerequisites();
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('embed-example.html: <dicom-deid-drop> lists the outputs the portal would upload', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const requests = recordRequests(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}embed-example.html`);
  // the input lives in the element's shadow root; playwright's CSS locators pierce it
  await page.setInputFiles('[data-testid="embed-file-input"]', [
    { name: 'CT_small.dcm', mimeType: 'application/dicom', buffer: readFileSync(join(CORPUS, 'CT_small.dcm')) },
    { name: 'MR_small_RLE.dcm', mimeType: 'application/dicom', buffer: readFileSync(join(CORPUS, 'MR_small_RLE.dcm')) },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a DICOM file') },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="upload-row"]').length === 2, null, { timeout: 60_000 });
  const names = await page.$$eval('[data-testid="upload-row"] td.name', (tds) => tds.map((t) => t.textContent));
  for (const n of names) assert.match(n, /^2\.25\.\d+\/2\.25\.\d+\/2\.25\.\d+\.dcm$/);
  assert.match(await page.textContent('#not-uploaded'), /notes\.txt: skipped, Not a DICOM file/);
  assert.match(await page.textContent('#upload-summary'), /2 de-identified files/);
  for (const r of requests) {
    assert.equal(new URL(r.url).origin, new URL(server.url).origin, r.url);
    assert.equal(r.method, 'GET');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('deidentifyFiles(): results with name, blob and report; same key, same output', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}embed-example.html`);
  const ct = readFileSync(join(CORPUS, 'CT_small.dcm')).toString('base64');
  const out = await page.evaluate(async (b64) => {
    const { deidentifyFiles } = await import('./embed.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const files = [new File([bytes], 'ct.dcm'), new File(['hello'], 'hello.txt')];
    const progress = [];
    const run = () => deidentifyFiles(files, { key: 'portal-key', onProgress: (p) => progress.push(p.phase) });
    const a = await run();
    const b = await run();
    const ab = new Uint8Array(await a[0].blob.arrayBuffer());
    const bb = new Uint8Array(await b[0].blob.arrayBuffer());
    let identical = ab.length === bb.length;
    for (let i = 0; identical && i < ab.length; i++) identical = ab[i] === bb[i];
    let bad = null;
    try {
      await deidentifyFiles(files, { key: 'k', config: { no_such_setting: 1 } });
    } catch (e) {
      bad = { kind: e.kind, message: e.message };
    }
    return {
      results: a.map((r) => ({ name: r.name, size: r.blob ? r.blob.size : null, status: r.report.status, output: r.report.output, input: r.report.input })),
      identical,
      phases: [...new Set(progress)],
      bad,
    };
  }, ct);
  assert.equal(out.results.length, 2);
  assert.equal(out.results[0].status, 'written');
  assert.equal(out.results[0].name, out.results[0].output);
  assert.ok(out.results[0].size > 1000);
  assert.equal(out.results[0].input, 'ct.dcm');
  assert.equal(out.results[1].status, 'skipped');
  assert.equal(out.results[1].size, null);
  assert.equal(out.identical, true, 'the same key gives byte-identical output');
  assert.deepEqual(out.phases, ['scan', 'process']);
  assert.equal(out.bad && out.bad.kind, 'config');
  await context.close();
});
