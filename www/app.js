// The page: files in, settings, progress, preview, downloads. It never runs the engine itself: every
// call goes to the worker pool (worker-client.js → worker.js → pkg/).

import { WorkerPool, defaultPoolSize } from './worker-client.js';
import { runBatch, runReport, reportCsv, mappingCsv, randomKey, OutputNamer, OPTION_NAMES, isAbort } from './batch.js';
import { itemsOfFiles, itemsOfDrop } from './inputs.js';
import { plainReason, STATUS_WORDS } from './messages.js';
import { drawFirstFrame } from './dicom-image.js';
import { OutputStore, ReportStore } from './store.js';
import { canPickDirectory, downloadBlob, pickSink, writeToSink, writeToDirectory, zipStream } from './save.js';

const $ = (id) => document.getElementById(id);
const MAX_ROWS = 1000;
const MAX_CHANGE_ROWS = 3000;

const OPTION_TEXT = {
  retain_safe_private: ['Retain safe private', 'Keep private elements known to hold no identity (Table E.3.10-1); all other private elements are removed.'],
  retain_uids: ['Retain UIDs', 'Keep the original UIDs. Off: every UID is replaced by its keyed pseudonym.'],
  retain_device_identity: ['Retain device identity', 'Keep device serial numbers, station names and similar.'],
  retain_institution_identity: ['Retain institution identity', 'Keep the names and addresses of hospitals and departments.'],
  retain_patient_characteristics: ['Retain patient characteristics', 'Keep sex, age, size, weight and similar.'],
  retain_long_full_dates: ['Retain full dates', 'Keep all dates and times unchanged (excludes "modified dates").'],
  retain_long_modified_dates: ['Retain modified dates', 'Shift all dates of a patient by one secret offset, so intervals stay true.'],
  clean_descriptors: ['Clean descriptors', 'Keep descriptions and comments with identifying words removed. Off: they are removed.'],
  clean_structured_content: ['Clean structured content', 'Keep the content of structured reports, cleaned.'],
  clean_graphics: ['Clean graphics', 'Keep graphic annotations, cleaned.'],
};
const DATE_OPTIONS = ['retain_long_full_dates', 'retain_long_modified_dates'];
const KEY_NOTES = {
  generated: 'generated (random, in the browser): the pseudonyms can be reproduced only with this key',
  given: 'given',
};

// ?workers=N limits (or raises, up to 16) the number of workers; the default is one per core, up to 8.
// ?store=disk|memory|auto: where outputs wait for the download (auto: on disk for lists over 256 MB).
const params = new URLSearchParams(location.search);
const wantedWorkers = parseInt(params.get('workers'), 10);
const STORE_MODE = ['disk', 'memory'].includes(params.get('store')) ? params.get('store') : 'auto';
const DISK_ABOVE = 256e6;
const KEEP_BYTES = 256e6; // outputs kept as plain bytes in the page, at most (then Blobs)

const state = {
  pool: new WorkerPool({ size: wantedWorkers > 0 ? Math.min(wantedWorkers, 16) : defaultPoolSize(8) }),
  info: null,
  defaults: null,
  config: null, // the configuration object in use
  foreign: false, // the configuration is in the seed tool's layout: the checkboxes do not apply
  appliedText: '',
  keyKind: 'generated',
  subjects: null,
  subjectsName: '',
  items: [],
  configured: false,
  running: null,
  namer: new OutputNamer(),
  dir: null,
  uidMap: new Map(),
  patientMap: new Map(),
  progress: null,
  finishedAt: null,
  store: null, // OutputStore: outputs on disk (OPFS); null: outputs kept in memory
  keptBytes: 0, // bytes of the outputs kept as plain bytes (KEEP_BYTES)
  reports: new ReportStore(),
};

// ---------------------------------------------------------------- start-up

async function start() {
  bindEvents();
  $('key').value = randomKey();
  registerServiceWorker();
  state.store = await OutputStore.open();
  document.body.dataset.store = state.store ? 'disk' : 'memory';
  try {
    state.info = await state.pool.call('info');
  } catch (e) {
    showEngineProblem(e);
    return;
  }
  state.defaults = state.info.defaultConfig;
  state.config = structuredClone(state.defaults);
  $('version').textContent = `dicom-deid ${state.info.version}`;
  renderOptions();
  renderPixelPolicy();
  setConfigText(state.config);
  if (state.info.capabilities && state.info.capabilities.mappings) {
    $('mappings').disabled = false;
    $('mappings-note').textContent = 'Mapping files (old → new IDs) re-identify the data: keep them as safe as the key, never share them with the outputs.';
  }
  if (canPickDirectory()) $('to-folder-box').hidden = false;
  if (canPickDirectory()) $('save-folder').hidden = false;
  document.body.dataset.ready = 'true';
  updateButtons();
}

function showEngineProblem(e) {
  const b = $('engine-status');
  b.hidden = false;
  b.textContent = `The de-identification engine could not be loaded, so files cannot be processed. ${e && e.message ? `(${e.message})` : ''}`;
  document.body.dataset.ready = 'error';
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('./sw.js').catch(() => {
    /* offline use and streamed downloads are then unavailable; everything else works */
  });
}

// ---------------------------------------------------------------- settings

function renderOptions() {
  const box = $('options');
  box.replaceChildren();
  const opts = { ...state.defaults.options, ...((state.config && state.config.options) || {}) };
  for (const name of OPTION_NAMES) {
    const [title, desc] = OPTION_TEXT[name];
    const label = document.createElement('label');
    label.className = 'option';
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = name;
    input.checked = !!opts[name];
    input.disabled = state.foreign;
    input.dataset.option = name;
    input.addEventListener('change', () => onOptionChange(name, input.checked));
    const t = document.createElement('span');
    t.className = 'name';
    t.textContent = title;
    const d = document.createElement('span');
    d.className = 'desc';
    d.textContent = desc;
    label.append(input, t, d);
    box.append(label);
  }
  const note = $('options-note');
  note.hidden = !state.foreign;
  note.textContent = state.foreign ? 'The options come from the imported configuration (seed tool layout); edit it in the JSON below.' : '';
}

function renderPixelPolicy() {
  const sel = $('pixel-policy');
  const px = { ...state.defaults.pixels, ...((state.config && state.config.pixels) || {}) };
  sel.value = px.policy;
  sel.disabled = state.foreign;
}

function onPixelPolicyChange(policy) {
  state.config.pixels = { ...state.defaults.pixels, ...(state.config.pixels || {}), policy };
  setConfigText(state.config);
}

function onOptionChange(name, on) {
  state.config.options = { ...state.defaults.options, ...(state.config.options || {}), [name]: on };
  if (on && DATE_OPTIONS.includes(name)) {
    // the two date options exclude each other
    const other = DATE_OPTIONS.find((o) => o !== name);
    state.config.options[other] = false;
    const box = document.querySelector(`input[data-option="${other}"]`);
    if (box) box.checked = false;
  }
  setConfigText(state.config);
}

function setConfigText(config) {
  const text = JSON.stringify(config, null, 2);
  $('config-text').value = text;
  state.appliedText = text;
  $('config-error').hidden = true;
}

function isProjectLayout(obj) {
  return Object.keys(obj).every((k) => k in state.defaults);
}

async function validateSettings({ config = state.config, subjects = state.subjects } = {}) {
  const key = $('key').value;
  await state.pool.call('validate', { config, key: key || 'validation', subjects });
}

// Applies the JSON in the text area (when it changed). Returns false and shows the error when invalid.
async function applyConfigText() {
  const text = $('config-text').value;
  const err = $('config-error');
  const status = $('config-status');
  let parsed;
  try {
    parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the configuration must be a JSON object { ... }');
  } catch (e) {
    err.hidden = false;
    err.textContent = `Not valid JSON: ${e.message}`;
    status.textContent = '';
    $('config-box').open = true;
    return false;
  }
  try {
    await validateSettings({ config: parsed });
  } catch (e) {
    err.hidden = false;
    err.textContent = e.message;
    status.textContent = '';
    $('config-box').open = true;
    return false;
  }
  err.hidden = true;
  state.config = parsed;
  state.foreign = !isProjectLayout(parsed);
  state.appliedText = text;
  status.textContent = 'Configuration checked and in use.';
  renderOptions();
  renderPixelPolicy();
  return true;
}

async function onSubjectsFile(file) {
  const err = $('subjects-error');
  const text = await file.text();
  try {
    await validateSettings({ subjects: text });
  } catch (e) {
    err.hidden = false;
    err.textContent = e.message;
    return;
  }
  err.hidden = true;
  state.subjects = text;
  state.subjectsName = file.name;
  const rows = text.split(/\r?\n/).filter((l) => l.trim()).length;
  $('subjects-status').textContent = `${file.name}: ${rows} line${rows === 1 ? '' : 's'} in use.`;
  $('subjects-clear').hidden = false;
}

function lockSettings(locked) {
  $('settings-fields').disabled = locked;
  $('settings-locked').hidden = !locked;
}

// Builds the engine in every worker with the settings. Returns false (and says why) when invalid.
async function configure() {
  if ($('config-text').value !== state.appliedText && !(await applyConfigText())) return false;
  const key = $('key').value;
  if (!key) {
    setProgress('error', 'A secret key is needed: make a random one or type a passphrase.');
    $('key').focus();
    return false;
  }
  try {
    await state.pool.setup('configure', {
      config: state.config,
      key,
      subjects: state.subjects,
      wantMappings: !!(state.info.capabilities && state.info.capabilities.mappings),
    }, { reset: true });
  } catch (e) {
    setProgress('error', `The settings are not valid: ${e.message}`);
    return false;
  }
  state.configured = true;
  state.keyNote = KEY_NOTES[state.keyKind];
  state.configSnapshot = structuredClone(state.config);
  lockSettings(true);
  return true;
}

// ---------------------------------------------------------------- files and runs

function addItems(items) {
  if (!items.length) return;
  for (const it of items) {
    it.status = 'waiting';
    it.index = state.items.length;
    state.items.push(it);
    renderRow(it);
  }
  updateRowsMore();
  updateButtons();
  if (!state.running) setProgress('idle', `${pendingItems().length} file${pendingItems().length === 1 ? '' : 's'} ready.`);
  if ($('autostart').checked && state.info) runPending();
}

function pendingItems() {
  return state.items.filter((it) => it.status === 'waiting' || it.status === 'cancelled');
}

async function runPending() {
  if (state.running || !state.info) return;
  if (!state.configured && !(await configure())) return;
  const controller = new AbortController();
  state.running = { controller };
  state.scanMs = 0;
  state.engineMs = 0;
  updateButtons();
  const t0 = performance.now();
  let cancelled = false;
  try {
    for (;;) {
      const batch = pendingItems();
      if (!batch.length) break;
      for (const it of batch) setStatus(it, 'waiting');
      await runOne(batch, controller.signal);
    }
  } catch (e) {
    if (isAbort(e)) cancelled = true;
    else {
      setProgress('error', `Stopped: ${e.message}`);
      if (e.kind === 'unavailable') showEngineProblem(e);
    }
  }
  for (const it of state.items) if (['waiting', 'scanning', 'working'].includes(it.status)) it.status = 'cancelled';
  await state.pool.broadcast('closePacks').catch(() => {}); // the outputs' packs are complete
  state.running = null;
  clearTimeout(flushTimer);
  flushTimer = null;
  for (const it of state.items) if (it.row) paintRow(it);
  dirtyRows.clear();
  const secs = (performance.now() - t0) / 1000;
  // timings for scripts/bench-web
  $('progress').dataset.ms = String(Math.round(secs * 1000));
  $('progress').dataset.scanMs = String(Math.round(state.scanMs || 0));
  $('progress').dataset.engineMs = String(Math.round(state.engineMs || 0));
  if (cancelled) setProgress('cancelled', `Cancelled. ${summaryText()} Press “De-identify” to go on with the rest.`);
  else if ($('progress').dataset.state !== 'error') setProgress('done', `Finished: ${summaryText()}`, secs);
  updateButtons();
}

// Outputs go to the disk store (OPFS, memory stays flat) for large lists, else stay in memory as Blobs
// (faster: no file-system writes).
async function useDisk() {
  if (!state.store || state.storeFailed || STORE_MODE === 'memory') return false;
  if (STORE_MODE === 'disk') return true;
  const total = state.items.reduce((s, it) => s + (it.size || 0), 0);
  if (total <= DISK_ABOVE) return false;
  try {
    const { quota, usage } = await navigator.storage.estimate();
    if (quota - usage < total * 1.1) return false; // not enough room: Blobs (the browser pages them to disk)
  } catch {
    /* no estimate: try, and fall back on the first failed write */
  }
  return true;
}

async function runOne(batch, signal) {
  const bytesTotal = batch.reduce((s, it) => s + (it.size || 0), 0);
  const disk = await useDisk();
  $('progress').dataset.store = disk ? 'disk' : 'memory';
  let t0 = performance.now();
  await runBatch(state.pool, batch, {
    signal,
    onStatus: (i, st) => setStatus(batch[i], st),
    onProgress: (p) => {
      if (p.phase === 'process' && p.done === 0) {
        state.scanMs = (state.scanMs || 0) + performance.now() - t0;
        t0 = performance.now();
      }
      state.progress = { ...p, t0, bytesTotal };
      scheduleProgress();
    },
    // small outputs go into the workers' packs, unless each is written into a chosen folder at once
    processArgs: (item) => (disk && !state.storeFailed ? { store: { ...state.store.target(`${item.index}.dcm`), pack: !state.dir } } : {}),
    onResult: async (item, i, r) => {
      state.engineMs = (state.engineMs || 0) + (r.engineMs || 0);
      const report = r.report;
      if (report.status === 'written' && (r.bytes || r.blob || r.stored)) {
        item.outputPath = state.namer.name(report);
        if (r.stored) {
          item.stored = r.stored;
          item.range = r.range;
        }
        else {
          // outputs stay as the bytes the worker transferred while they add up to little: a Blob
          // copies them into the browser's process (~2 ms of CPU for a 0.5 MB file, taken from the
          // workers on a small machine); beyond KEEP_BYTES, Blobs (the browser may page them to disk)
          if (r.bytes && !r.blob && state.keptBytes + r.bytes.length <= KEEP_BYTES) {
            item.bytes = r.bytes;
            state.keptBytes += r.bytes.length;
          } else item.blob = r.blob ?? new Blob([r.bytes], { type: 'application/dicom' });
          if (r.storeError && !state.storeFailed) {
            // the disk store failed (full, or not allowed): keep the outputs in memory from now on
            console.warn(`outputs are kept in memory: ${r.storeError}`);
            state.storeFailed = true;
            document.body.dataset.store = 'memory';
          }
        }
        if (state.dir) {
          try {
            await writeToDirectory(state.dir, item.outputPath, await (item.range ? outputBytes(item) : outputFile(item)));
          } catch (e) {
            report.notes = [...(report.notes || []), `could not be written into the chosen folder: ${e.message}`];
          }
        }
        for (const [a, b] of r.uidMap || []) state.uidMap.set(a, b);
        if (r.patientMap) state.patientMap.set(r.patientMap[0], r.patientMap[1]);
      }
      // the full report (with every element) goes to the report store; the page keeps a summary
      item.reportRef = state.reports.add(report);
      const { elements, ...summary } = report;
      item.report = summary;
      item.kind = r.kind;
      setStatus(item, report.status);
    },
  });
}

function counts() {
  const c = { written: 0, failed: 0, skipped: 0 };
  for (const it of state.items) if (it.report) c[it.report.status]++;
  return c;
}

function summaryText() {
  const c = counts();
  const parts = [`${c.written} de-identified`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  return `${parts.join(', ')} (of ${state.items.length} file${state.items.length === 1 ? '' : 's'}).`;
}

function cancelRun() {
  if (state.running) state.running.controller.abort();
}

function clearAll() {
  cancelRun();
  state.items = [];
  state.namer = new OutputNamer();
  state.reports = new ReportStore();
  state.keptBytes = 0;
  state.storeFailed = false;
  // the workers let go of their packs before the folder is removed
  if (state.store) state.store.clear(state.pool.broadcast('closePacks').catch(() => {})).catch(() => {});
  state.uidMap.clear();
  state.patientMap.clear();
  state.configured = false;
  $('file-rows').replaceChildren();
  $('preview').hidden = true;
  $('save-status').textContent = '';
  lockSettings(false);
  updateRowsMore();
  setProgress('idle', 'No files yet.');
  updateButtons();
}

// ---------------------------------------------------------------- progress

// The page is repainted at most a few times a second during a run: every repaint of the table costs
// the main thread time that the workers would otherwise wait for.
const dirtyRows = new Set();
let flushTimer = null;
let lastFlush = 0;
const FLUSH_MS = 250;

function scheduleProgress() {
  if (flushTimer) return;
  const wait = Math.max(0, lastFlush + FLUSH_MS - performance.now());
  flushTimer = setTimeout(flush, wait);
}

function flush() {
  flushTimer = null;
  lastFlush = performance.now();
  for (const it of dirtyRows) paintRow(it);
  dirtyRows.clear();
  renderProgress();
}

function fmtBytes(n) {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(0)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

function fmtTime(s) {
  if (!isFinite(s)) return '';
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function renderProgress() {
  const p = state.progress;
  if (!p || !state.running) return;
  const bar = $('progress-bar');
  const el = $('progress');
  el.dataset.state = 'running';
  if (p.phase === 'scan') {
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
    $('progress-text').textContent = `Reading headers (step 1 of 2): ${p.done} / ${p.total} files`;
    $('progress-rate').textContent = '';
    return;
  }
  bar.max = Math.max(1, p.total);
  bar.value = p.done;
  const secs = (performance.now() - p.t0) / 1000;
  const rate = secs > 0.2 ? p.bytesDone / secs : 0;
  const left = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : Infinity;
  $('progress-text').textContent = `De-identifying (step 2 of 2): ${p.done} / ${p.total} files, ${fmtBytes(p.bytesDone)} of ${fmtBytes(p.bytesTotal)}`;
  $('progress-rate').textContent = rate ? `· ${(rate / 1e6).toFixed(1)} MB/s${p.done < p.total ? ` · about ${fmtTime(left)} left` : ''}` : '';
}

function setProgress(st, text, secs) {
  const el = $('progress');
  el.dataset.state = st;
  $('progress-text').textContent = text;
  const bar = $('progress-bar');
  if (st === 'done') {
    bar.max = 1;
    bar.value = 1;
    const bytes = state.items.reduce((s, it) => s + (it.report ? it.size || 0 : 0), 0);
    $('progress-rate').textContent = secs ? `· ${fmtTime(secs)}, ${(bytes / 1e6 / secs).toFixed(1)} MB/s` : '';
  } else if (st === 'idle') {
    bar.value = 0;
    $('progress-rate').textContent = '';
  } else {
    $('progress-rate').textContent = '';
  }
}

// ---------------------------------------------------------------- file table

function renderRow(item) {
  if (item.index >= MAX_ROWS) return;
  const tr = document.createElement('tr');
  tr.setAttribute('data-testid', 'file-row');
  const name = document.createElement('td');
  name.className = 'name';
  name.textContent = item.name;
  const status = document.createElement('td');
  const result = document.createElement('td');
  result.className = 'result';
  const actions = document.createElement('td');
  actions.className = 'actions';
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.textContent = 'Preview';
  btn.disabled = true;
  btn.setAttribute('aria-label', `Preview ${item.name}`);
  btn.addEventListener('click', () => showPreview(item));
  actions.append(btn);
  tr.append(name, status, result, actions);
  item.row = { tr, status, result, btn };
  $('file-rows').append(tr);
  paintRow(item);
}

function updateRowsMore() {
  const more = state.items.length - MAX_ROWS;
  const el = $('rows-more');
  el.hidden = more <= 0;
  el.textContent = more > 0 ? `…and ${more} more file${more === 1 ? '' : 's'}, not listed here; every file is in the report.` : '';
}

function setStatus(item, st) {
  item.status = st;
  if (state.running) {
    dirtyRows.add(item);
    scheduleProgress();
  } else paintRow(item);
}

function paintRow(item) {
  const r = item.row;
  if (!r) return;
  r.tr.dataset.status = item.status;
  const badge = document.createElement('span');
  badge.className = `badge ${item.status}`;
  badge.textContent = STATUS_WORDS[item.status] || item.status;
  r.status.replaceChildren(badge);
  r.result.replaceChildren();
  const rep = item.report;
  if (rep && rep.status === 'written') {
    const p = document.createElement('span');
    p.className = 'path';
    p.textContent = item.outputPath;
    r.result.append(p);
    if (rep.notes && rep.notes.length) {
      const n = document.createElement('span');
      n.className = 'detail';
      n.textContent = rep.notes.join('; ');
      r.result.append(n);
    }
  } else if (rep) {
    r.result.append(plainReason(rep.reason, item.kind));
    const d = document.createElement('span');
    d.className = 'detail';
    d.textContent = rep.reason || '';
    if (rep.reason && plainReason(rep.reason, item.kind).toLowerCase() !== rep.reason.toLowerCase()) r.result.append(d);
  }
  r.btn.disabled = !(rep && rep.status === 'written');
}

// ---------------------------------------------------------------- buttons

function updateButtons() {
  const running = !!state.running;
  const pending = pendingItems().length;
  const c = counts();
  $('start').disabled = running || !pending || !state.info;
  $('start').textContent = pending ? `De-identify ${pending} file${pending === 1 ? '' : 's'}` : 'De-identify';
  $('cancel').disabled = !running;
  $('clear').disabled = !state.items.length;
  const haveReport = state.items.some((it) => it.report);
  $('download-zip').disabled = running || !c.written;
  $('save-folder').disabled = running || !c.written;
  $('download-report').disabled = running || !haveReport;
  $('download-csv').disabled = running || !haveReport;
  const maps = $('mappings').checked && !$('mappings').disabled;
  $('download-mappings').hidden = !maps;
  $('download-mappings').disabled = running || !c.written;
}

// ---------------------------------------------------------------- outputs

function hasOutput(it) {
  return !!(it.bytes || it.blob || it.stored);
}

/** An output as bytes, a Blob or a disk-backed File (or a slice of one: a worker's pack). */
async function outputFile(it) {
  if (it.bytes || it.blob) return it.bytes || it.blob;
  const f = await state.store.file(it.stored);
  return it.range ? f.slice(it.range[0], it.range[1]) : f;
}

/** An output's bytes. A pack still being written to may change between taking the File and reading
 * it (the read then fails): read it again. */
async function outputBytes(it) {
  for (let tries = 1; ; tries++) {
    const o = await outputFile(it);
    if (o instanceof Uint8Array) return o;
    try {
      return new Uint8Array(await o.arrayBuffer());
    } catch (e) {
      if (tries >= 3 || !it.range) throw e;
    }
  }
}

// read one at a time, as the ZIP is written
async function* zipEntries() {
  const when = state.finishedAt || new Date();
  for (const it of state.items) if (hasOutput(it)) yield { name: it.outputPath, lastModified: when, input: await outputFile(it) };
}

function doneItems() {
  return state.items.filter((it) => it.report);
}

/** The run report (the CLI's schema) as a Blob, assembled from the stored per-file reports. */
async function reportBlob() {
  const head = runReport({
    version: state.info.version,
    config: state.configSnapshot || state.config,
    keyNote: state.keyNote,
    files: doneItems().map((it) => it.report),
  });
  const files = await state.reports.arrayBlob(doneItems().map((it) => it.reportRef));
  delete head.files;
  const text = JSON.stringify(head);
  return new Blob([text.slice(0, -1), ',"files":', files, '}'], { type: 'application/json' });
}

async function onDownloadZip() {
  const name = 'dicom-deid-output.zip';
  // the file picker needs the click's user activation: ask for it before anything else
  const sink = await pickSink(name);
  if (!sink) return;
  const status = $('save-status');
  const n = counts().written;
  status.textContent = `Writing the ZIP of ${n} file${n === 1 ? '' : 's'}…`;
  state.finishedAt = new Date();
  try {
    const how = await writeToSink(sink, () => zipStream(zipEntries()), name);
    status.textContent = how === 'file' ? `Saved ${name} (${n} files).` : `Downloaded ${name} (${n} files).`;
    $('download-zip').dataset.saved = how;
  } catch (e) {
    status.textContent = `The ZIP could not be saved: ${e.message}`;
  }
}

async function onSaveFolder() {
  let dir;
  try {
    dir = await window.showDirectoryPicker({ mode: 'readwrite', id: 'dicom-deid-output' });
  } catch (e) {
    return; // cancelled
  }
  await saveIntoFolder(dir);
}

async function saveIntoFolder(dir) {
  const status = $('save-status');
  const list = state.items.filter(hasOutput);
  let i = 0;
  try {
    for (const it of list) {
      await writeToDirectory(dir, it.outputPath, await outputFile(it));
      i++;
      if (i % 20 === 0) status.textContent = `Writing into the folder: ${i} / ${list.length}`;
    }
    status.textContent = `Wrote ${list.length} file${list.length === 1 ? '' : 's'} into the folder “${dir.name}”.`;
  } catch (e) {
    status.textContent = `Writing into the folder stopped after ${i} files: ${e.message}`;
  }
}

async function onDownloadReport() {
  downloadBlob(await reportBlob(), 'dicom-deid-report.json');
}

function onDownloadCsv() {
  downloadBlob(new Blob([reportCsv(doneItems().map((it) => it.report))], { type: 'text/csv' }), 'dicom-deid-report.csv');
}

function onDownloadMappings() {
  downloadBlob(new Blob([mappingCsv([...state.uidMap])], { type: 'text/csv' }), 'uid_mapping.csv');
  setTimeout(() => downloadBlob(new Blob([mappingCsv([...state.patientMap])], { type: 'text/csv' }), 'patid_mapping.csv'), 300);
}

async function onToFolder(ev) {
  if (!ev.target.checked) {
    state.dir = null;
    return;
  }
  try {
    state.dir = await window.showDirectoryPicker({ mode: 'readwrite', id: 'dicom-deid-output' });
    $('save-status').textContent = `Outputs will also be written into “${state.dir.name}” as they are made.`;
    // files already done go there now
    if (state.items.some(hasOutput) && !state.running) await saveIntoFolder(state.dir);
  } catch (e) {
    ev.target.checked = false;
    state.dir = null;
  }
}

// ---------------------------------------------------------------- preview

async function showPreview(item) {
  const sec = $('preview');
  sec.hidden = false;
  for (const it of state.items) it.row && it.row.tr.classList.toggle('selected', it === item);
  $('preview-name').textContent = `${item.name} → ${item.outputPath || ''}`;
  state.previewItem = item;
  renderChanges();
  sec.scrollIntoView({ behavior: 'smooth', block: 'start' });
  let original = null;
  try {
    if (item.source.blob) original = new Uint8Array(await item.source.blob.arrayBuffer());
    else original = await state.pool.call('read', { source: item.source });
  } catch (e) {
    original = null;
  }
  if (state.previewItem !== item) return;
  const after = hasOutput(item) ? await outputBytes(item) : null;
  if (state.previewItem !== item) return;
  await Promise.all([
    drawInto('canvas-before', 'before-msg', original, item),
    drawInto('canvas-after', 'after-msg', after, item),
  ]);
  if (state.previewItem !== item) return;
  // the burned-in text boxes of the first frame: red = masked, green = text left (phi-only)
  const rep = item.reportRef ? await state.reports.get(item.reportRef) : null;
  if (state.previewItem !== item) return;
  const boxes = ((rep && rep.pixel && rep.pixel.boxes) || []).filter((b) => b.frame === null || b.frame === 0);
  for (const id of ['canvas-before', 'canvas-after']) drawBoxes($(id), boxes);
  $('preview-pixels').textContent = rep && rep.pixel ? pixelSummary(rep.pixel) : '';
}

function drawBoxes(canvas, boxes) {
  if (canvas.hidden || !canvas.width) return;
  const g = canvas.getContext('2d');
  g.lineWidth = Math.max(1, Math.round(canvas.width / 400));
  for (const b of boxes) {
    g.strokeStyle = b.masked ? '#e03131' : '#2f9e44';
    g.strokeRect(b.x + 0.5, b.y + 0.5, b.w, b.h);
  }
}

function pixelSummary(p) {
  if (p.warning) return 'Burned-in text: not looked for (the pixel data could not be decoded; passed on request).';
  const masked = p.boxes.filter((b) => b.masked).length;
  const kept = p.boxes.length - masked;
  const policy = { 'phi-only': 'identifying text', 'all-text': 'all text', none: 'region rules only' }[p.policy] || p.policy;
  return `Burned-in text (${policy}): ${masked} box${masked === 1 ? '' : 'es'} masked (red), ${kept} left (green), in ${p.frames} frame${p.frames === 1 ? '' : 's'}.`;
}

// Draws the first frame of `bytes`: by the page's own reader (uncompressed images), else by the pixel
// module in a worker (compressed, deflated, palette and other image types); a reason when neither can.
async function drawInto(canvasId, msgId, bytes, item) {
  const canvas = $(canvasId);
  const msg = $(msgId);
  let reason = bytes ? drawFirstFrame(canvas, bytes) : 'no file';
  if (reason && /^preview not available for/.test(reason)) {
    try {
      const f = await state.pool.call('preview', { source: { bytes } });
      if (state.previewItem !== item) return;
      canvas.width = f.width;
      canvas.height = f.height;
      canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(f.rgba.buffer, f.rgba.byteOffset, f.rgba.length), f.width, f.height), 0, 0);
      reason = null;
    } catch (e) {
      if (state.previewItem !== item) return;
      if (e && e.kind && e.kind !== 'unavailable') reason = `preview not available: the image could not be decoded`;
    }
  }
  if (!reason) {
    // fit the box: small images are enlarged (up to 4×), large ones reduced
    const box = canvas.parentElement.clientWidth || 480;
    const scale = Math.min((box - 16) / canvas.width, 400 / canvas.height, 4);
    canvas.style.width = `${Math.round(canvas.width * scale)}px`;
    canvas.style.height = `${Math.round(canvas.height * scale)}px`;
  }
  canvas.hidden = !!reason;
  msg.hidden = !reason;
  msg.textContent = reason ? reason.charAt(0).toUpperCase() + reason.slice(1) : '';
}

const ACTION_WORDS = {
  keep: 'kept', remove: 'removed', empty: 'emptied', dummy: 'dummy value', replace_uid: 'UID replaced',
  pseudonym_patient_id: 'patient ID pseudonym', pseudonym_patient_name: 'patient name pseudonym', shift_date: 'date shifted',
  clean_age: 'age checked', clean_text: 'text cleaned', check_person_name: 'name check', clean_items: 'items cleaned',
};

async function renderChanges() {
  const item = state.previewItem;
  if (!item) return;
  const rep = item.reportRef ? await state.reports.get(item.reportRef) : { elements: [], counts: {} };
  if (state.previewItem !== item) return;
  const showKept = $('show-kept').checked;
  const rows = (rep.elements || []).filter((e) => showKept || e.action !== 'keep');
  const body = $('change-rows');
  body.replaceChildren();
  for (const e of rows.slice(0, MAX_CHANGE_ROWS)) {
    const tr = document.createElement('tr');
    const act = document.createElement('span');
    act.className = `act ${e.action}`;
    act.textContent = e.action;
    act.title = ACTION_WORDS[e.action] || e.action;
    const cells = [e.path, e.keyword || '(unknown)', e.vr, act];
    for (const c of cells) {
      const td = document.createElement('td');
      td.append(c);
      tr.append(td);
    }
    body.append(tr);
  }
  const parts = Object.entries(rep.counts || {}).map(([k, v]) => `${ACTION_WORDS[k] || k}: ${v}`);
  $('preview-counts').textContent = parts.length ? parts.join(' · ') : '';
}

// ---------------------------------------------------------------- events

function bindEvents() {
  const zone = $('drop-zone');
  // a file dropped outside the zone must not replace the page
  for (const ev of ['dragover', 'drop']) document.addEventListener(ev, (e) => e.preventDefault());
  zone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', (e) => {
    if (!zone.contains(e.relatedTarget)) zone.classList.remove('over');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (!e.dataTransfer) return;
    itemsOfDrop(e.dataTransfer).then(addItems, (err) => setProgress('error', `The dropped files could not be read: ${err.message}`));
  });
  for (const id of ['file-input', 'folder-input']) {
    $(id).addEventListener('change', async (e) => {
      const files = e.target.files;
      if (!files || !files.length) return;
      const items = await itemsOfFiles(files);
      e.target.value = '';
      addItems(items);
    });
  }
  $('key').addEventListener('input', () => (state.keyKind = 'given'));
  $('key-new').addEventListener('click', () => {
    $('key').value = randomKey();
    state.keyKind = 'generated';
  });
  $('key-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('key').value);
      $('key-copy').textContent = 'Copied';
    } catch {
      $('key').select();
      $('key-copy').textContent = 'Select and copy';
    }
    setTimeout(() => ($('key-copy').textContent = 'Copy'), 2000);
  });
  $('key-save').addEventListener('click', () => {
    const text = `dicom-deid key (keep it secret; needed to reproduce the pseudonyms)\n${$('key').value}\n`;
    downloadBlob(new Blob([text], { type: 'text/plain' }), 'dicom-deid-key.txt');
  });
  $('config-apply').addEventListener('click', applyConfigText);
  $('config-reset').addEventListener('click', () => {
    state.config = structuredClone(state.defaults);
    state.foreign = false;
    setConfigText(state.config);
    renderOptions();
    renderPixelPolicy();
    $('config-status').textContent = 'Defaults restored.';
  });
  $('config-file').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (!f) return;
    $('config-text').value = await f.text();
    await applyConfigText();
  });
  $('subjects-input').addEventListener('change', (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (f) onSubjectsFile(f);
  });
  $('subjects-clear').addEventListener('click', () => {
    state.subjects = null;
    $('subjects-status').textContent = 'No mapping: pseudonyms are made from the key.';
    $('subjects-clear').hidden = true;
  });
  $('start').addEventListener('click', runPending);
  $('cancel').addEventListener('click', cancelRun);
  $('clear').addEventListener('click', clearAll);
  $('download-zip').addEventListener('click', onDownloadZip);
  $('save-folder').addEventListener('click', onSaveFolder);
  $('download-report').addEventListener('click', onDownloadReport);
  $('download-csv').addEventListener('click', onDownloadCsv);
  $('download-mappings').addEventListener('click', onDownloadMappings);
  $('mappings').addEventListener('change', updateButtons);
  $('pixel-policy').addEventListener('change', (e) => onPixelPolicyChange(e.target.value));
  $('to-folder').addEventListener('change', onToFolder);
  $('show-kept').addEventListener('change', renderChanges);
  $('preview-close').addEventListener('click', () => {
    $('preview').hidden = true;
    state.previewItem = null;
    for (const it of state.items) it.row && it.row.tr.classList.remove('selected');
  });
  window.addEventListener('beforeunload', (e) => {
    if (state.running) e.preventDefault();
  });
}

start();
