// Unit tests of the page's modules that need no browser (node's Blob, File and streams are enough):
// the preview's DICOM reader, the ZIP reader, the batch runner and the worker pool (with a stand-in
// Worker). They run in a second and do not need pkg/ or Chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CORPUS, tempDir } from './helpers.mjs';
import { parseImage, firstFrame, NoPreview } from '../../www/dicom-image.js';
import { listZip, itemsOfFile } from '../../www/inputs.js';
import { readSource, crc32 } from '../../www/sources.js';
import { runBatch, forEachLimit, serial, LARGE_BYTES, OutputNamer, reportCsv, runReport, mappingCsv, randomKey } from '../../www/batch.js';
import { plainReason } from '../../www/messages.js';
import { WorkerPool } from '../../www/worker-client.js';
import { zipStream } from '../../www/save.js';

const corpus = (n) => new Uint8Array(readFileSync(join(CORPUS, n)));

test('preview reader: uncompressed images in every little/big endian framing', () => {
  const ct = parseImage(corpus('CT_small.dcm'));
  assert.equal(ct.rows, 128);
  assert.equal(ct.columns, 128);
  assert.equal(ct.bitsAllocated, 16);
  assert.equal(ct.photometric, 'MONOCHROME2');
  for (const n of ['CT_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small.dcm']) {
    const f = firstFrame(corpus(n));
    assert.ok(f.width > 0 && f.height > 0, n);
    assert.equal(f.rgba.length, f.width * f.height * 4);
    const grey = new Set();
    for (let i = 0; i < f.rgba.length; i += 4) grey.add(f.rgba[i]);
    assert.ok(grey.size > 50, `${n}: an image with contrast`);
  }
  // the same image, little and big endian, gives the same picture
  const le = firstFrame(corpus('MR_small.dcm'));
  const be = firstFrame(corpus('MR_small_bigendian.dcm'));
  assert.deepEqual(be.rgba, le.rgba);
  const rgb = firstFrame(corpus('examples_rgb_color.dcm'));
  assert.ok(rgb.width > 0);
});

test('preview reader: a reason instead of a picture', () => {
  const reason = (bytes) => {
    try {
      firstFrame(bytes);
      return null;
    } catch (e) {
      assert.ok(e instanceof NoPreview, String(e));
      return e.message;
    }
  };
  assert.match(reason(corpus('JPEG2000.dcm')), /compressed images/);
  assert.match(reason(corpus('MR_small_RLE.dcm')), /compressed images/);
  assert.match(reason(corpus('image_dfl.dcm')), /deflated/);
  assert.match(reason(corpus('rtplan.dcm')), /no pixel data/);
  const ct = corpus('CT_small.dcm');
  assert.match(reason(ct.subarray(0, ct.length >> 1)), /incomplete/);
  assert.ok(reason(new TextEncoder().encode('hello, not DICOM at all')));
});

function makeZip(entries, { zip64 = false } = {}) {
  const dir = tempDir();
  const out = join(dir, 'test.zip');
  const spec = JSON.stringify(entries);
  const r = spawnSync('python3', ['-c', `
import json, sys, zipfile
entries, out, src, z64 = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == '1'
with zipfile.ZipFile(out, 'w') as z:
    for name, file, method in entries:
        data = open(src + '/' + file, 'rb').read() if file else b''
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED if method == 'deflate' else zipfile.ZIP_STORED
        with z.open(info, 'w', force_zip64=z64) as f:
            f.write(data)
`, spec, out, CORPUS, zip64 ? '1' : '0']);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(out);
}

test('ZIP reader: entries listed from the central directory and read lazily (stored, deflated, Zip64)', async () => {
  for (const zip64 of [false, true]) {
    const bytes = makeZip([
      ['a/CT_small.dcm', 'CT_small.dcm', 'deflate'],
      ['a/MR_small.dcm', 'MR_small.dcm', 'store'],
      ['empty/', null, 'store'],
    ], { zip64 });
    const file = new File([bytes], 'in.zip');
    const entries = await listZip(file);
    assert.deepEqual(entries.map((e) => e.name), ['a/CT_small.dcm', 'a/MR_small.dcm']);
    const items = await itemsOfFile(file);
    assert.deepEqual(items.map((i) => i.name), ['in.zip/a/CT_small.dcm', 'in.zip/a/MR_small.dcm']);
    const whole = await readSource(items[0].source);
    assert.deepEqual(whole, corpus('CT_small.dcm'));
    const head = await readSource(items[1].source, 1000);
    assert.deepEqual(head, corpus('MR_small.dcm').subarray(0, 1000));
    assert.equal(crc32(whole), entries[0].crc);
  }
  // a damaged entry is caught by its checksum
  const bytes = makeZip([['x.dcm', 'CT_small.dcm', 'store']]);
  const broken = Buffer.from(bytes);
  broken[200] ^= 0xff; // inside the stored data (the local header is 35 bytes)
  const items = await itemsOfFile(new File([broken], 'b.zip'));
  await assert.rejects(readSource(items[0].source), (e) => e.kind === 'zip' && /checksum/.test(e.message));
  // not a ZIP: one failed item with the reason
  const bad = await itemsOfFile(new File([new Uint8Array(100)], 'fake.zip'));
  assert.equal(bad.length, 1);
  assert.match(bad[0].error, /ZIP archive could not be read/);
});

test('the output ZIP (client-zip) reads back with Python', async () => {
  const entries = [
    { name: '2.25.1/2.25.2/2.25.3.dcm', input: new Blob([corpus('CT_small.dcm')]) },
    { name: '2.25.1/2.25.2/2.25.4.dcm', input: new Blob([corpus('MR_small.dcm')]) },
  ];
  const buf = Buffer.from(await new Response(zipStream(entries)).arrayBuffer());
  const p = join(tempDir(), 'out.zip');
  writeFileSync(p, buf);
  const r = spawnSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(",".join(z.namelist()))', p], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '2.25.1/2.25.2/2.25.3.dcm,2.25.1/2.25.2/2.25.4.dcm');
});

test('batch: two passes, every token to every worker, results in input order', async () => {
  const calls = [];
  const setups = [];
  const pool = {
    size: 2,
    async call(method, args) {
      calls.push(method);
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      if (method === 'collect') {
        if (args.source.bad) throw Object.assign(new Error('not a DICOM file'), { kind: 'not_dicom' });
        return `token-${args.source.id}`;
      }
      if (args.source.bad) return { report: { input: args.name, output: null, status: 'skipped', reason: 'cannot read the file: not a DICOM file', counts: {}, elements: [] } };
      return { bytes: new Uint8Array([args.source.id]), report: { input: args.name, output: 'x/y/same.dcm', status: 'written', reason: null, counts: { keep: 1 }, elements: [] } };
    },
    async setup(method, args) {
      setups.push([method, args]);
    },
  };
  const items = Array.from({ length: 7 }, (_, i) => ({ name: `f${i}`, size: 10, source: { id: i, bad: i === 3 } }));
  items.push({ name: 'enc.zip/x', size: 5, source: null, error: 'the ZIP entry is encrypted' });
  const results = [];
  const phases = [];
  const namer = new OutputNamer();
  await runBatch(pool, items, {
    onProgress: (p) => phases.push(`${p.phase}:${p.done}`),
    onResult: (item, i, r) => {
      if (r.report.status === 'written') namer.name(r.report);
      results[i] = r.report;
    },
  });
  assert.equal(calls.filter((c) => c === 'collect').length, 7);
  assert.equal(calls.filter((c) => c === 'process').length, 7);
  assert.ok(calls.lastIndexOf('collect') < calls.indexOf('process'), 'pass 1 ends before pass 2 starts');
  assert.equal(setups.length, 1);
  assert.deepEqual(setups[0][1].tokens.sort(), ['token-0', 'token-1', 'token-2', 'token-4', 'token-5', 'token-6']);
  assert.equal(results[3].status, 'skipped');
  assert.equal(results[7].status, 'failed');
  assert.match(results[7].reason, /encrypted/);
  const outs = results.filter((r) => r.status === 'written').map((r) => r.output).sort();
  assert.deepEqual(outs, ['x/y/same.dcm', 'x/y/same_2.dcm', 'x/y/same_3.dcm', 'x/y/same_4.dcm', 'x/y/same_5.dcm', 'x/y/same_6.dcm']);
  assert.ok(phases.includes('scan:8') && phases.includes('process:8'));

  const rep = runReport({ version: '0.1.0', config: { options: { retain_uids: true, clean_graphics: true, retain_safe_private: false } }, keyNote: 'given', files: results });
  assert.deepEqual(rep.options, ['retain_uids', 'clean_graphics']);
  assert.deepEqual(rep.summary, { written: 6, failed: 1, skipped: 1 });
  const csv = reportCsv(rep.files).split('\r\n');
  assert.equal(csv[0], 'input,output,status,reason,transfer_syntax,notes,keep');
  assert.equal(mappingCsv([['1.2.3', '2.25.9'], ['a,b', 'c"d']]), 'id_old,id_new\r\n1.2.3,2.25.9\r\n"a,b","c""d"\r\n');
  assert.match(randomKey(), /^[0-9a-f]{64}$/);
});

test('forEachLimit: bounded concurrency, stops on abort', async () => {
  let running = 0;
  let peak = 0;
  await forEachLimit(Array.from({ length: 20 }), 3, async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 2));
    running--;
  });
  assert.equal(peak, 3);
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(
    forEachLimit(Array.from({ length: 100 }), 2, async () => {
      if (++n === 5) ac.abort();
      await new Promise((r) => setTimeout(r, 1));
    }, ac.signal),
    (e) => e.name === 'AbortError',
  );
  assert.ok(n < 10);
});

test('large files are processed one at a time across the pool, small ones alongside', async () => {
  let large = 0;
  let peakLarge = 0;
  let small = 0;
  const pool = {
    size: 4,
    depth: 2,
    async setup() {},
    async call(method, { name }) {
      if (method === 'collect') return 'token';
      const big = name.startsWith('big');
      if (big) peakLarge = Math.max(peakLarge, ++large);
      else small++;
      await new Promise((r) => setTimeout(r, 5));
      if (big) large--;
      return { report: { input: name, status: 'written' } };
    },
  };
  const items = ['big1', 's1', 'big2', 's2', 'big3', 's3'].map((name) => ({
    name,
    size: name.startsWith('big') ? LARGE_BYTES + 1 : 1000,
    source: { bytes: new Uint8Array(1) },
  }));
  const seen = [];
  await runBatch(pool, items, { onResult: (item) => seen.push(item.name) });
  assert.equal(peakLarge, 1, 'never two large files at once');
  assert.equal(small, 3);
  assert.equal(seen.length, 6);
  // the lock runs the next call after a failure too
  const run = serial();
  const order = [];
  await Promise.allSettled([run(async () => { order.push(1); throw new Error('x'); }), run(async () => order.push(2))]);
  assert.deepEqual(order, [1, 2]);
});

test('plain words for the engine reasons', () => {
  assert.equal(plainReason('cannot read the file: not a DICOM file: no DICM prefix'), 'Not a DICOM file');
  assert.equal(plainReason('cannot read the file: truncated file: element value at byte 6300 needs 32768 bytes, 13303 available'), 'The file is damaged or incomplete (truncated)');
  assert.match(plainReason('not processed: DICOMDIR (a media directory, not an instance)'), /DICOMDIR/);
  assert.equal(plainReason('the Patient ID of this file is not in the subject mapping table'), 'The Patient ID is not in the subject mapping table');
  assert.equal(plainReason('something new', 'parse'), 'The file is damaged: its DICOM header cannot be read');
});

// ---- the worker pool, with a stand-in Worker ----

class FakeWorker {
  static all = [];
  constructor(url, opts) {
    this.url = url;
    this.opts = opts;
    this.terminated = false;
    this.log = [];
    FakeWorker.all.push(this);
  }
  postMessage(msg, transfer = []) {
    if (this.terminated) return;
    if (msg.method === 'cancel') {
      this.cancelled = (this.cancelled || []).concat(msg.args.id);
      return;
    }
    this.log.push(msg.method);
    this.lastTransfer = transfer;
    const delay = msg.method === 'slow' ? 10_000 : 1;
    const t = setTimeout(() => {
      if (this.terminated) return;
      if (msg.method === 'boom') this.onmessage({ data: { id: msg.id, ok: false, error: { kind: 'internal', message: 'trap' }, fatal: true } });
      else if (msg.method === 'fail') this.onmessage({ data: { id: msg.id, ok: false, error: { kind: 'config', message: 'bad config' } } });
      else this.onmessage({ data: { id: msg.id, ok: true, result: { method: msg.method, args: msg.args, worker: FakeWorker.all.indexOf(this) } } });
    }, delay);
    if (delay > 1000) t.unref?.();
  }
  terminate() {
    this.terminated = true;
  }
}

test('worker pool: queue, setup replayed on new workers, abort by terminate-and-respawn, fatal errors', async () => {
  globalThis.Worker = FakeWorker;
  FakeWorker.all = [];
  try {
    const pool = new WorkerPool({ size: 2, url: 'worker.js' });
    await pool.setup('configure', { key: 'k' }, { reset: true });
    assert.equal(FakeWorker.all.length, 1, 'one worker started for the setup');
    const rs = await Promise.all([1, 2, 3, 4].map((i) => pool.call('echo', { i })));
    assert.deepEqual(rs.map((r) => r.args.i), [1, 2, 3, 4]);
    assert.equal(FakeWorker.all.length, 2, 'workers start on demand, up to the size');
    assert.deepEqual(FakeWorker.all[1].log.slice(0, 1), ['configure'], 'a new worker gets the setup first');

    const buf = new Uint8Array(8).buffer;
    await pool.call('echo', {}, { transfer: [buf] });
    assert.ok(FakeWorker.all.some((w) => w.lastTransfer && w.lastTransfer[0] === buf), 'transfer list passed on');

    // abort a running call: its worker is terminated and replaced, with the setup replayed
    const ac = new AbortController();
    const slow = pool.call('slow', {}, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await assert.rejects(slow, (e) => e.name === 'AbortError');
    assert.equal(FakeWorker.all.filter((w) => w.terminated).length, 1);
    const fresh = FakeWorker.all[FakeWorker.all.length - 1];
    assert.equal(fresh.terminated, false);
    assert.equal(fresh.log[0], 'configure');
    assert.equal((await pool.call('echo', { after: true })).args.after, true);

    // broadcast: once to every worker running now (the workers close their output packs)
    const live = pool.slots.length;
    const all = await pool.broadcast('echo', { b: 1 });
    assert.equal(all.length, live);
    assert.ok(all.every((r) => r.args.b === 1));

    // pipelining: each worker holds up to two calls; aborting the waiting one sends 'cancel' and
    // keeps the worker; aborting a running one replaces its worker and sends the waiting one again
    const a1 = new AbortController();
    const a2 = new AbortController();
    const held = [pool.call('slow', {}, { signal: a1.signal }), pool.call('slow', {}), pool.call('slow', {}), pool.call('slow', {}, { signal: a2.signal })];
    const slotsHeld = pool.slots.map((s) => s.tasks.length);
    assert.deepEqual(slotsHeld, [2, 2]);
    const workersBefore = FakeWorker.all.length;
    a2.abort(); // waiting in the second worker
    await assert.rejects(held[3], (e) => e.name === 'AbortError');
    assert.equal(FakeWorker.all.length, workersBefore, 'no worker replaced for a waiting call');
    assert.ok(FakeWorker.all.some((w) => (w.cancelled || []).length === 1));
    a1.abort(); // running in the first worker, with another call waiting behind it
    await assert.rejects(held[0], (e) => e.name === 'AbortError');
    assert.equal(FakeWorker.all.length, workersBefore + 1);
    const requeued = FakeWorker.all[FakeWorker.all.length - 1].log;
    assert.deepEqual(requeued.filter((m) => m === 'slow').length, 1, 'the other held call was sent to the new worker');
    pool.cancelAll();
    await Promise.allSettled(held);

    // an already aborted signal, and a queued call aborted before it starts
    await assert.rejects(pool.call('echo', {}, { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError');

    // a worker error is a rejection with its kind
    await assert.rejects(pool.call('fail', {}), (e) => e.kind === 'config' && e.message === 'bad config');

    // a fatal error replaces the worker
    const before = FakeWorker.all.length;
    await assert.rejects(pool.call('boom', {}), (e) => e.message === 'trap');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(FakeWorker.all.length, before + 1);

    // cancelAll: every queued and running call rejects with AbortError
    const many = [1, 2, 3, 4, 5].map(() => pool.call('slow', {}).catch((e) => e.name));
    pool.cancelAll();
    assert.deepEqual(await Promise.all(many), Array(5).fill('AbortError'));
    assert.equal((await pool.call('echo', { ok: 1 })).args.ok, 1, 'the pool works after cancelAll');
    pool.terminate();
    await assert.rejects(pool.call('echo', {}), /closed/);
  } finally {
    delete globalThis.Worker;
  }
});
