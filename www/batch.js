// The two passes of a batch over a worker pool, and the run report, shared by the page (app.js) and the
// embedding API (embed.js).
//
// Pass 1 reads the first 64 KiB of every file in a worker and collects its identifying words (an opaque
// token); every worker then gets every token, so each file is cleaned of the names and IDs of the whole
// batch. Pass 2 de-identifies every whole file. Files are read one at a time, in the workers, so the
// batch can be larger than memory; only the outputs come back (transferred, not copied).

export const HEAD_BYTES = 64 * 1024;
// Files over this size (the worker's read-ahead limit) are processed one at a time across the pool:
// each is held once in the memory of the worker that cleans it, so a batch needs about as much memory
// as its largest file, not as many times as there are workers.
export const LARGE_BYTES = 16 * 1024 * 1024;

/** A lock: `run(fn)` runs `fn` after every earlier `run` has finished. */
export function serial() {
  let tail = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}
export const PROFILE = 'DICOM PS3.15 Table E.1-1, 2026c';
export const OPTION_NAMES = [
  'retain_safe_private',
  'retain_uids',
  'retain_device_identity',
  'retain_institution_identity',
  'retain_patient_characteristics',
  'retain_long_full_dates',
  'retain_long_modified_dates',
  'clean_descriptors',
  'clean_structured_content',
  'clean_graphics',
];

export function isAbort(e) {
  return !!e && e.name === 'AbortError';
}

/** A report for an input that never reached the engine (the CLI's shape). */
export function notWrittenReport(input, status, reason) {
  return { input, output: null, status, reason, counts: {}, elements: [] };
}

/** Runs `fn(item, index)` over `items`, at most `limit` at a time, in order of start; stops on abort. */
export async function forEachLimit(items, limit, fn, signal) {
  let next = 0;
  let failure = null;
  const lane = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        failure ??= e;
        throw e;
      }
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane);
  const settled = await Promise.allSettled(lanes);
  if (failure) throw failure;
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * Output paths are made of new UIDs; two inputs with the same SOP Instance UID would collide, so the
 * second gets a numbered name and a note, as the CLI does.
 */
export class OutputNamer {
  constructor() {
    this.taken = new Map();
  }
  name(report) {
    const path = report.output;
    const n = (this.taken.get(path) || 0) + 1;
    this.taken.set(path, n);
    if (n === 1) return path;
    const renamed = `${path.replace(/\.dcm$/, '')}_${n}.dcm`;
    report.notes = [...(report.notes || []), 'another input has the same SOP Instance UID; written under a numbered name'];
    report.output = renamed;
    return renamed;
  }
}

/**
 * Both passes over `items` ({name, size, source, error?}). The pool must be configured already.
 * `onResult(item, index, {bytes | stored, report, uidMap, patientMap})` is awaited (it may write the
 * output somewhere before more results arrive). `onProgress({phase, done, total, bytesDone,
 * bytesTotal})`. `processArgs(item, index)` adds arguments to the worker's process call (`store`).
 */
export async function runBatch(pool, items, { signal, onProgress = () => {}, onResult, onStatus = () => {}, processArgs, concurrency } = {}) {
  const total = items.length;
  const limit = concurrency || pool.size * (pool.depth || 2);
  const bytesTotal = items.reduce((s, it) => s + (it.size || 0), 0);

  // pass 1: identifying words of every file
  let done = 0;
  const tokens = [];
  onProgress({ phase: 'scan', done, total, bytesDone: 0, bytesTotal });
  await forEachLimit(
    items,
    limit,
    async (item, i) => {
      if (!item.error && item.source) {
        onStatus(i, 'scanning');
        try {
          tokens.push(await pool.call('collect', { source: item.source, head: HEAD_BYTES }, { signal }));
        } catch (e) {
          if (isAbort(e) || e.kind === 'unavailable') throw e;
          // not DICOM or damaged: pass 2 reports it
        }
        onStatus(i, 'waiting');
      }
      done++;
      onProgress({ phase: 'scan', done, total, bytesDone: 0, bytesTotal });
    },
    signal,
  );
  if (tokens.length) await pool.setup('addTokens', { tokens });

  // pass 2: every whole file
  const oneLarge = serial();
  done = 0;
  let bytesDone = 0;
  onProgress({ phase: 'process', done, total, bytesDone, bytesTotal });
  await forEachLimit(
    items,
    limit,
    async (item, i) => {
      let r;
      if (item.error || !item.source) {
        r = { report: notWrittenReport(item.name, 'failed', item.error || 'the file could not be read') };
      } else {
        onStatus(i, 'working');
        try {
          const call = () => pool.call('process', { source: item.source, name: item.name, ...(processArgs ? processArgs(item, i) : {}) }, { signal });
          r = await ((item.size || 0) > LARGE_BYTES ? oneLarge(call) : call());
        } catch (e) {
          if (isAbort(e) || e.kind === 'unavailable') throw e;
          r = { report: notWrittenReport(item.name, 'failed', e.message), kind: e.kind };
        }
      }
      await onResult(item, i, r);
      done++;
      bytesDone += item.size || 0;
      onProgress({ phase: 'process', done, total, bytesDone, bytesTotal });
    },
    signal,
  );
}

/** The run report, in the CLI's schema. */
export function runReport({ version, config, keyNote, files }) {
  const options = config && config.options ? OPTION_NAMES.filter((o) => config.options[o]) : [];
  const summary = { written: 0, failed: 0, skipped: 0 };
  for (const f of files) summary[f.status] = (summary[f.status] || 0) + 1;
  return { tool: 'dicom-deid', version, profile: PROFILE, options, key: keyNote, summary, files };
}

function csvCell(v) {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvText(rows) {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One line per file: input, output, status, reason, notes and the number of elements per action. */
export function reportCsv(files) {
  const actions = [...new Set(files.flatMap((f) => Object.keys(f.counts || {})))].sort();
  const rows = [['input', 'output', 'status', 'reason', 'transfer_syntax', 'notes', ...actions]];
  for (const f of files) {
    rows.push([f.input, f.output, f.status, f.reason, f.transfer_syntax, (f.notes || []).join(' | '), ...actions.map((a) => (f.counts || {})[a] ?? 0)]);
  }
  return csvText(rows);
}

/** A mapping file in the MIDI-B format (id_old,id_new). */
export function mappingCsv(pairs) {
  return csvText([['id_old', 'id_new'], ...pairs]);
}

/** 32 random bytes as hex: a key as strong as `openssl rand -hex 32`. */
export function randomKey() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
