// Module worker: runs the dicom-deid WebAssembly engine. The page never runs the wasm on its main thread.
//
// Protocol (see worker-client.js): the page posts {id, method, args}; the worker answers
// {id, ok: true, result} or {id, ok: false, error: {kind, message}, fatal}. Messages are handled one
// at a time, in order; {method: 'cancel', args: {id}} makes it skip a call still waiting. `fatal`
// means the engine may be in a broken state (a trap, out of memory): the pool then replaces this
// worker.
//
// A file is given as a "source", read here so the page's main thread never copies file contents:
//   {blob}                                  a File or Blob (a reference, no copy)
//   {bytes}                                 a Uint8Array (transferred by the caller)
//   {zip, method, compressedSize, size, crc} an entry of a ZIP archive: `zip` is the Blob slice that
//                                           starts at the entry's local header

import { readSource, sourceSize } from './sources.js';

let loading = null;   // memoized import and init() of pkg/ (header engine)
let pixelModule = null;  // memoized import of pkg/pixel/
let pixelLoading = null; // ... with the OCR models, only when pixel cleaning is on
let engine = null;    // the Deidentifier of the current configuration
let mappings = false; // whether the engine was asked for mapping data
const memories = [];  // the WebAssembly memories of the loaded modules

// WebAssembly memory grows to hold the largest file and never shrinks: after a large file, a worker
// holding more than this asks the pool to replace it (`recycle` in the result), so the memory of one
// large file is not kept for the rest of the batch.
const RECYCLE_BYTES = 256 * 1024 * 1024;
const heldBytes = () => memories.reduce((n, m) => n + (m ? m.buffer.byteLength : 0), 0);

function fail(kind, message) {
  return { kind, message: String(message) };
}

function ensureInit() {
  loading ??= (async () => {
    let mod;
    try {
      mod = await import('./pkg/dicom_deid.js');
    } catch (e) {
      throw fail('unavailable', `the WebAssembly engine (pkg/dicom_deid.js) could not be loaded: ${e && e.message}`);
    }
    memories.push((await mod.default()).memory);
    return mod;
  })();
  return loading;
}

// The pixel module alone (the preview of compressed images needs no model).
function ensurePixelModule() {
  pixelModule ??= (async () => {
    try {
      const mod = await import('./pkg/pixel/dicom_deid_pixel.js');
      memories.push((await mod.default()).memory);
      return mod;
    } catch (e) {
      pixelModule = null;
      throw fail('unavailable', `the pixel engine (pkg/pixel/) could not be loaded: ${e && e.message}`);
    }
  })();
  return pixelModule;
}

// The pixel module and its models (same origin, cached by the service worker for offline use).
function ensurePixel() {
  pixelLoading ??= (async () => {
    let mod;
    try {
      mod = await ensurePixelModule();
    } catch (e) {
      pixelLoading = null;
      throw e;
    }
    const get = async (name) => {
      const r = await fetch(`./pkg/pixel/models/${name}`);
      if (!r.ok) throw fail('unavailable', `the text model file ${name} could not be loaded (HTTP ${r.status})`);
      return new Uint8Array(await r.arrayBuffer());
    };
    let models;
    try {
      const [det, rec, fast, fastDict] = await Promise.all(
        ['det.onnx', 'rec.onnx', 'rec-fast.onnx', 'rec-fast.txt'].map(get));
      models = { det, rec, fast, fastDict: new TextDecoder().decode(fastDict) };
    } catch (e) {
      pixelLoading = null;
      throw e.kind ? e : fail('unavailable', `the text models could not be loaded: ${e && e.message}`);
    }
    return { mod, models };
  })();
  return pixelLoading;
}

// A Deidentifier for a configuration: the header module, or the pixel module with its models when
// the configuration looks at pixel data (the default: burned-in text cleaning is on).
async function makeEngine(config, key, subjects) {
  const m = await ensureInit();
  const probe = new m.Deidentifier(config ?? undefined, key, subjects ?? undefined);
  if (!probe.needsPixelEngine()) return probe;
  probe.free();
  const { mod, models: m2 } = await ensurePixel();
  const e = new mod.Deidentifier(config ?? undefined, key, subjects ?? undefined);
  if (e.needsModels()) e.loadModels(m2.det, m2.rec, m2.fast, m2.fastDict);
  return e;
}

// ---- the output store (OPFS), written with synchronous access handles ---------------------------

const storeDirs = new Map();
const PIECE = 4 * 1024 * 1024; // large outputs are copied out of the engine this much at a time
const STORE_TIMEOUT_MS = 30_000;
const HEAD = 65536; // pass 1 reads this much of a file unless told otherwise

const message = (err) => String((err && err.message) || err);

// What a process call sends back besides the output: the report, the engine's own time (scripts/
// bench-web compares it with the native CLI) and, when asked for, the mapping data.
function resultOf(r, engineMs) {
  const result = { report: r.report, engineMs };
  if (mappings) {
    result.uidMap = r.uidMap;
    result.patientMap = r.patientMap;
  }
  return result;
}

// A write that does not finish in time (seen near the storage quota) counts as failed: the output then
// goes back to the page instead.
function storeOutput(store, bytes) {
  return withTimeout(writeOutput(store, bytes));
}

function withTimeout(promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('writing to the browser storage timed out')), STORE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Note: the file handle is asked for in the same turn as the call when the folder is known (no extra
// await before getFileHandle). Splitting this into small async helpers made every write of a run of
// small files wait ~100 ms in Chromium 156 (300 CT slices: 3 s → 30 s), for reasons not found.
async function storeHandle(store) {
  const key = store.path.join('/');
  let dir = storeDirs.get(key);
  if (!dir) {
    dir = await navigator.storage.getDirectory();
    for (const p of store.path) dir = await dir.getDirectoryHandle(p, { create: true });
    storeDirs.set(key, dir);
  }
  const fh = await dir.getFileHandle(store.name, { create: true });
  return await fh.createSyncAccessHandle();
}

function writeAll(h, bytes) {
  h.truncate(0);
  writeAt(h, bytes, 0);
  h.flush();
}

async function writeOutput(store, bytes) {
  const h = await storeHandle(store);
  try {
    writeAll(h, bytes);
  } finally {
    h.close();
  }
}

// ---- packs: the outputs of small files appended to one store file per worker -------------------
// Opening a file in the store costs the browser ~5 ms of CPU (a handle, a lock, a sync access handle),
// twice what cleaning a 0.5 MB CT slice costs; so small outputs are written one after the other into
// a "pack" file this worker holds open, and the page reads each back as a slice (offset, end). A pack
// is closed when it reaches PACK_MAX, when the folder changes, on `closePacks` (the end of a run), and
// before this worker is replaced. A write that fails leaves the pack (its end is then unknown).
const PACK_MAX = 64 * 1024 * 1024;
const packTag = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
let pack = null; // { key, name, h, size }
let packCount = 0;
let packLock = Promise.resolve(); // a worker runs several calls at once: one touches the pack at a time

function withPackLock(fn) {
  const r = packLock.then(fn);
  packLock = r.catch(() => {});
  return r;
}

async function openPack(store) {
  const key = store.path.join('/');
  if (pack && (pack.key !== key || pack.size >= PACK_MAX)) closePack();
  if (!pack) {
    const name = `pack-${packTag}-${++packCount}.bin`;
    const h = await storeHandle({ path: store.path, name });
    pack = { key, name, h, size: 0 };
  }
  return pack;
}

function closePack() {
  const p = pack;
  pack = null;
  if (!p) return;
  try {
    p.h.flush();
  } finally {
    p.h.close();
  }
}

// Appends `bytes` to the open pack; returns [offset, end].
function appendToPack(p, bytes) {
  try {
    const at = p.size;
    p.size = writeAt(p.h, bytes, at);
    return [at, p.size];
  } catch (err) {
    try {
      closePack();
    } catch {}
    throw err;
  }
}

// A large file (more than EARLY_MAX bytes, from a File or Blob): read straight into the engine's memory
// and its output never built there: the engine hands it out a piece at a time as it writes it
// (processInputTo), most of it as views of the unchanged pixel data in the input, and each piece goes
// straight to the disk store, or into a Blob. So the file is held about once, not twice or four times.
// When writing to the disk store fails, the engine writes the file again, into a Blob.
async function processLarge(e, { source, name, store }) {
  let handle = null;
  let storeError = null;
  let stored = false;
  let size = 0;
  if (store) {
    // opened before the engine runs: its pieces must be written without waiting
    const opening = storeHandle(store);
    try {
      handle = await withTimeout(opening);
    } catch (err) {
      opening.then((h) => h.close(), () => {}); // opened too late: let it go
      storeError = message(err);
    }
  }
  try {
    await readIntoEngine(e, source.blob);
    const t = performance.now();
    let r = null;
    if (handle) {
      try {
        handle.truncate(0);
        r = e.processInputTo(name, (piece) => {
          size = writeAt(handle, piece, size);
        });
        if (r.report.status === 'written') {
          handle.flush();
          stored = true;
        }
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError || err instanceof RangeError) throw err;
        storeError = message(err);
        r = null;
      }
    }
    let blob = null;
    if (!r) {
      const parts = [];
      r = e.processInputTo(name, (piece) => {
        // copied now (the view is valid only during this call), a piece at a time
        for (let at = 0; at < piece.length; at += PIECE) parts.push(new Blob([piece.subarray(at, at + PIECE)]));
      });
      if (r.report.status === 'written') blob = new Blob(parts, { type: 'application/dicom' });
    }
    const result = resultOf(r, performance.now() - t);
    if (stored) Object.assign(result, { stored: store.name, size });
    else if (blob) {
      result.blob = blob;
      if (storeError) result.storeError = storeError;
    }
    return { result, transfer: [] };
  } finally {
    e.releaseOutput();
    if (handle) {
      handle.close();
      // nothing written (the file failed, or the write did): no file left in the store
      if (!stored) await storeDirs.get(store.path.join('/'))?.removeEntry(store.name).catch(() => {});
    }
  }
}

// Writes `bytes` at `at` in pieces (the browser may copy what one write is given); returns the end.
function writeAt(h, bytes, at) {
  for (let i = 0; i < bytes.length; ) {
    const n = h.write(bytes.subarray(i, i + PIECE), { at: at + i });
    if (!n) throw new Error('the output could not be written');
    i += n;
  }
  return at + bytes.length;
}

// Streams a File/Blob into the input the engine reserves (allocInput, inputView: a new view after
// every wait, as the engine's memory may move); nothing else runs on this engine meanwhile (calls are
// handled one at a time).
async function readIntoEngine(e, blob) {
  const size = blob.size;
  e.allocInput(size);
  const changed = () => fail('read', 'the file changed while it was being read');
  try {
    const reader = blob.stream().getReader();
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > size) throw changed();
      e.inputView().set(value, at);
      at += value.length;
    }
    if (at !== size) throw changed();
  } catch (err) {
    e.allocInput(0);
    throw err;
  }
}

function requireEngine() {
  if (!engine) throw fail('internal', 'the engine is not configured yet');
  return engine;
}

function toError(e) {
  if (e && typeof e === 'object' && typeof e.kind === 'string') return { kind: e.kind, message: String(e.message) };
  if (e instanceof WebAssembly.RuntimeError) return { kind: 'internal', message: `the engine stopped: ${e.message}`, fatal: true };
  if (e instanceof RangeError) return { kind: 'memory', message: `out of memory: ${e.message}`, fatal: true };
  if (e && e.name === 'NotReadableError') return { kind: 'read', message: 'the file could not be read (was it moved or deleted?)' };
  return { kind: 'internal', message: String((e && e.message) || e) };
}

// ---- methods --------------------------------------------------------------------------------

const methods = {
  async info() {
    const m = await ensureInit();
    return {
      version: m.version(),
      defaultConfig: m.defaultConfig(),
      capabilities: { mappings: typeof m.Deidentifier.prototype.setMappings === 'function' },
    };
  },

  // Builds the engine every later call uses. Throws {kind: "config" | "key", message}.
  async configure({ config, key, subjects, wantMappings }) {
    const next = await makeEngine(config, key, subjects);
    mappings = !!wantMappings && typeof next.setMappings === 'function';
    if (mappings) next.setMappings(true);
    engine?.free();
    engine = next;
    return true;
  },

  // Checks a configuration without keeping it.
  async validate({ config, key, subjects }) {
    const m = await ensureInit();
    new m.Deidentifier(config ?? undefined, key, subjects ?? undefined).free();
    return true;
  },

  // Pass 1: the identifying words of one file. Reads the first `head` bytes, and the whole file when
  // those are not enough (a header longer than that, a deflated data set).
  async collect({ source, head = HEAD }, early) {
    const e = requireEngine();
    const bytes = await (early ?? readSource(source, head));
    try {
      return e.collectIdentifiers(bytes);
    } catch (err) {
      if (bytes.length < sourceSize(source) && err && err.kind !== 'not_dicom') {
        return e.collectIdentifiers(await readSource(source));
      }
      throw err;
    }
  },

  async addTokens({ tokens }) {
    const e = requireEngine();
    for (const t of tokens) e.addBatchIdentifiers(t);
    return tokens.length;
  },

  // Pass 2: one whole file. With `store` ({path: [folder names], name, pack?}), the output is written
  // into the origin-private file system (OPFS) here and only the report goes back (with `pack`, a small
  // output is appended to this worker's pack: `stored` names the pack, `range` is [offset, end]);
  // otherwise (or when that fails) the output bytes are transferred back.
  async process({ source, name, store }, early) {
    const e = requireEngine();
    if (!early && source.blob && sourceSize(source) > EARLY_MAX && typeof e.processInputTo === 'function') {
      const out = await processLarge(e, { source, name, store });
      if (heldBytes() > RECYCLE_BYTES) {
        await withPackLock(closePack); // this worker is about to be replaced
        out.result.recycle = true;
      }
      return out;
    }
    const bytes = await (early ?? readSource(source));
    const t = performance.now();
    const r = e.process(bytes, name);
    const result = resultOf(r, performance.now() - t);
    if (r.bytes && store && store.pack) {
      try {
        const [stored, range] = await withTimeout(
          withPackLock(async () => {
            const p = await openPack(store);
            return [p.name, appendToPack(p, r.bytes)];
          }),
        );
        return { result: { ...result, stored, range, size: r.bytes.length }, transfer: [] };
      } catch (err) {
        return { result: { ...result, storeError: message(err), bytes: r.bytes }, transfer: [r.bytes.buffer] };
      }
    }
    if (r.bytes && store) {
      // the write waits on the file system, not on the CPU: the next file is processed meanwhile
      // (at most `depth` calls are here at once, so at most that many writes are pending)
      const bytes = r.bytes;
      const later = storeOutput(store, bytes).then(
        () => ({ result: { ...result, stored: store.name, size: bytes.length }, transfer: [] }),
        (err) => ({ result: { ...result, storeError: message(err), bytes }, transfer: [bytes.buffer] }),
      );
      return { later };
    }
    result.bytes = r.bytes;
    return { result, transfer: r.bytes ? [r.bytes.buffer] : [] };
  },

  // Closes this worker's pack (the end of a run, or before the page removes the folder).
  closePacks() {
    return withPackLock(() => {
      closePack();
      return true;
    });
  },

  async classify({ source }) {
    return requireEngine().classify(await readSource(source));
  },

  // The first frame of an image as RGBA, decoded by the pixel module (JPEG, JPEG 2000, RLE, deflated:
  // what the page's own reader does not draw).
  async preview({ source }) {
    const mod = await ensurePixelModule();
    const f = mod.previewFrame(await readSource(source));
    return { result: f, transfer: [f.rgba.buffer] };
  },

  // The original bytes of a source (for the local preview of a ZIP entry).
  async read({ source }) {
    const bytes = await readSource(source);
    const copy = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    return { result: copy, transfer: [copy.buffer] };
  },
};

// ---- message loop (one call at a time, in order) ----------------------------------------------

let chain = Promise.resolve();
const skipped = new Set(); // calls the page no longer wants (aborted while waiting here)

// Reading a file waits on the browser's storage, not on this thread: a call's input is read as soon
// as the call arrives, so the next file is on its way while the engine works on the current one. At
// most `depth` calls are here at once, and only inputs up to EARLY_MAX bytes are read ahead, so what
// is held ahead stays small; a larger file is read when its turn comes.
const EARLY_MAX = 16 * 1024 * 1024;
function readEarly(method, args) {
  if (!args || !args.source) return null;
  if (method === 'process' && sourceSize(args.source) > EARLY_MAX) return null;
  let early = null;
  if (method === 'process') early = readSource(args.source);
  else if (method === 'collect') early = readSource(args.source, args.head ?? HEAD);
  early?.catch(() => {}); // the error is thrown where the call awaits it (or dropped with the call)
  return early;
}

self.onmessage = (ev) => {
  const { id, method, args } = ev.data || {};
  if (method === 'cancel') {
    skipped.add(args.id);
    return;
  }
  const early = readEarly(method, args);
  chain = chain.then(async () => {
    if (skipped.delete(id)) {
      self.postMessage({ id, ok: false, error: { kind: 'aborted', message: 'aborted' } });
      return;
    }
    const fn = methods[method];
    try {
      if (!fn) throw fail('internal', `unknown method ${method}`);
      const out = await fn(args || {}, early);
      if (out && typeof out === 'object' && out.later) {
        out.later
          .then((o) => self.postMessage({ id, ok: true, result: o.result }, o.transfer))
          .catch((e) => self.postMessage({ id, ok: false, error: toError(e), fatal: false }));
        return;
      }
      if (out && typeof out === 'object' && 'transfer' in out && 'result' in out) {
        self.postMessage({ id, ok: true, result: out.result }, out.transfer);
      } else {
        self.postMessage({ id, ok: true, result: out });
      }
    } catch (e) {
      const error = toError(e);
      const fatal = !!error.fatal;
      delete error.fatal;
      self.postMessage({ id, ok: false, error, fatal });
    }
  });
};
