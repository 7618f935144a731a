// Embedding dicom-deid in an upload portal: de-identify in the browser, upload only the outputs.
//
//   import { deidentifyFiles } from './embed.js';
//   const results = await deidentifyFiles(input.files, { key: projectKey, onProgress: (p) => ... });
//   for (const r of results) if (r.report.status === 'written') upload(r.name, r.blob);
//
// or, with no code but an event handler:
//
//   <script type="module" src="/dicom-deid/embed.js"></script>
//   <dicom-deid-drop key="..."></dicom-deid-drop>
//   el.addEventListener('deidentified', (e) => e.detail.results ...)
//
// Requirements: www/ and pkg/ are served from the portal's own origin (workers must be same-origin),
// pkg/ next to worker.js (./pkg/dicom_deid.js), with the page's Content-Security-Policy allowing
// 'wasm-unsafe-eval' for scripts and 'self' for workers.
//
// Each result: {name, blob, report}. For a written file, `name` is its path in the output
// (<new Study UID>/<new Series UID>/<new SOP Instance UID>.dcm, made of new UIDs only), `blob` the
// de-identified file; for a failed or skipped one, `name` is the input's name and `blob` is null, and
// `report.reason` says why. Reports never hold an original value except `input`, the file's name.

import { WorkerPool, defaultPoolSize } from './worker-client.js';
import { runBatch, runReport, OutputNamer, randomKey } from './batch.js';
import { itemsOfFiles, itemsOfDrop } from './inputs.js';

export { randomKey };

async function deidentifyItems(items, { config, key, subjects, onProgress, signal, workers } = {}) {
  const pool = new WorkerPool({ size: workers || defaultPoolSize(8) });
  const namer = new OutputNamer();
  const results = new Array(items.length);
  try {
    await pool.setup('configure', { config: config ?? undefined, key: key || randomKey(), subjects: subjects ?? undefined }, { reset: true });
    await runBatch(pool, items, {
      signal,
      onProgress: (p) => onProgress && onProgress({ ...p }),
      onResult: (item, i, r) => {
        const report = r.report;
        const written = report.status === 'written' && (r.bytes || r.blob);
        results[i] = {
          name: written ? namer.name(report) : item.name,
          blob: written ? (r.blob ?? new Blob([r.bytes], { type: 'application/dicom' })) : null,
          report,
        };
      },
    });
  } finally {
    pool.terminate();
  }
  return results;
}

/**
 * De-identifies files (a FileList or an array of Files; ZIP archives are opened) in workers.
 * Options: config (object or JSON text; default profile when absent), key (the project's secret key;
 * a random one when absent, and then the pseudonyms cannot be reproduced), subjects (subject mapping
 * CSV text), onProgress({phase: 'scan' | 'process', done, total, bytesDone, bytesTotal}), signal
 * (AbortSignal), workers (pool size). Rejects with {kind, message} for invalid settings.
 */
export async function deidentifyFiles(files, options = {}) {
  return deidentifyItems(await itemsOfFiles(files), options);
}

/** The run report (the command-line tool's schema) of results from deidentifyFiles. */
export function buildReport(results, { version = '', config, key } = {}) {
  return runReport({ version, config, keyNote: key ? 'given' : 'generated (random, in the browser)', files: results.map((r) => r.report) });
}

const TEMPLATE = `
<div class="zone" part="zone">
  <p class="title"><slot>Drop DICOM files or folders here</slot></p>
  <p class="pick">
    <label class="button">Choose files…<input type="file" multiple class="hidden" data-testid="embed-file-input"></label>
    <label class="button">Choose a folder…<input type="file" webkitdirectory multiple class="hidden" data-testid="embed-folder-input"></label>
  </p>
  <progress max="1" value="0" hidden></progress>
  <p class="status" role="status" aria-live="polite">De-identified in this browser before anything is uploaded.</p>
</div>`;

/**
 * <dicom-deid-drop key="..." config='{"options": {...}}' workers="4">: a drop zone that de-identifies
 * what it is given and dispatches `deidentified` ({detail: {results}}), plus `progress` and `error`.
 * Properties `config`, `key`, `subjects` may be set from script instead of attributes.
 */
export class DicomDeidDrop extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = new URL('./embed.css', import.meta.url).href;
    const t = document.createElement('template');
    t.innerHTML = TEMPLATE;
    root.append(css, t.content.cloneNode(true));
    this.zone = root.querySelector('.zone');
    this.bar = root.querySelector('progress');
    this.statusEl = root.querySelector('.status');
    this.busy = false;
    for (const input of root.querySelectorAll('input[type=file]')) {
      input.addEventListener('change', async () => {
        const files = Array.from(input.files || []);
        input.value = '';
        if (files.length) this.run(await itemsOfFiles(files));
      });
    }
    this.zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.zone.classList.add('over');
    });
    this.zone.addEventListener('dragleave', () => this.zone.classList.remove('over'));
    this.zone.addEventListener('drop', (e) => {
      e.preventDefault();
      this.zone.classList.remove('over');
      if (e.dataTransfer) itemsOfDrop(e.dataTransfer).then((items) => this.run(items));
    });
  }

  get key() {
    return this._key ?? this.getAttribute('key') ?? undefined;
  }
  set key(v) {
    this._key = v;
  }
  get config() {
    if (this._config !== undefined) return this._config;
    const a = this.getAttribute('config');
    return a ? a : undefined;
  }
  set config(v) {
    this._config = v;
  }

  async run(items) {
    if (this.busy || !items.length) return;
    this.busy = true;
    this.bar.hidden = false;
    this.bar.value = 0;
    this.statusEl.textContent = `De-identifying ${items.length} file${items.length === 1 ? '' : 's'}…`;
    try {
      const results = await deidentifyItems(items, {
        config: this.config,
        key: this.key,
        subjects: this.subjects,
        workers: Number(this.getAttribute('workers')) || undefined,
        onProgress: (p) => {
          this.bar.max = Math.max(1, p.total * 2);
          this.bar.value = (p.phase === 'process' ? p.total : 0) + p.done;
          this.dispatchEvent(new CustomEvent('progress', { detail: p }));
        },
      });
      const ok = results.filter((r) => r.report.status === 'written').length;
      this.statusEl.textContent = `${ok} of ${results.length} file${results.length === 1 ? '' : 's'} de-identified.`;
      this.dispatchEvent(new CustomEvent('deidentified', { detail: { results }, bubbles: true, composed: true }));
    } catch (e) {
      this.statusEl.textContent = `Could not de-identify: ${e.message}`;
      this.dispatchEvent(new CustomEvent('error', { detail: { kind: e.kind, message: e.message } }));
    } finally {
      this.busy = false;
      this.bar.hidden = true;
    }
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('dicom-deid-drop')) {
  customElements.define('dicom-deid-drop', DicomDeidDrop);
}
