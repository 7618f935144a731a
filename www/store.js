// Where the page keeps what a run produces, so that its memory does not grow with the batch:
//
// - OutputStore: the de-identified files, written by the workers into this site's origin-private file
//   system (OPFS, on disk, invisible to other sites), one folder per tab, removed by "Clear list" and
//   when a later visit finds the folder of a closed tab (a Web Lock marks the folders of open tabs).
//   Only de-identified outputs are stored there; originals are never copied.
// - ReportStore: the per-file reports as JSON text in Blobs (which the browser may keep on disk),
//   in chunks; the run report is assembled from them without parsing them again.

const ROOT_DIR = 'dicom-deid-outputs';
const LOCK_PREFIX = 'dicom-deid-outputs:';

function randomId() {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class OutputStore {
  /** Opens this tab's folder; null when the browser has no OPFS or Web Locks. */
  static async open() {
    if (!navigator.storage || typeof navigator.storage.getDirectory !== 'function' || !navigator.locks) return null;
    try {
      const tab = `tab-${Date.now().toString(36)}-${randomId()}`;
      await new Promise((resolve, reject) => {
        navigator.locks
          .request(LOCK_PREFIX + tab, () => {
            resolve();
            return new Promise(() => {}); // held while the page lives
          })
          .catch(reject);
      });
      const root = await navigator.storage.getDirectory();
      const base = await root.getDirectoryHandle(ROOT_DIR, { create: true });
      const held = new Set(((await navigator.locks.query()).held || []).map((l) => l.name));
      const stale = [];
      for await (const name of base.keys()) if (name !== tab && !held.has(LOCK_PREFIX + name)) stale.push(name);
      for (const name of stale) await base.removeEntry(name, { recursive: true }).catch(() => {});
      const s = new OutputStore(base, tab);
      s.newList();
      await s.dir;
      return s;
    } catch {
      return null;
    }
  }

  constructor(base, tab) {
    this.base = base;
    this.tab = tab;
    this.list = null;
    this.dir = null;
    this.counter = 0;
  }

  // switches to a new folder at once (the workers create folders as they need them)
  newList() {
    this.list = `list-${++this.counter}`;
    const list = this.list;
    this.dir = (async () => {
      const tabDir = await this.base.getDirectoryHandle(this.tab, { create: true });
      return tabDir.getDirectoryHandle(list, { create: true });
    })();
  }

  /** What a worker needs to write output `name` of the current list. */
  target(name) {
    return { path: [ROOT_DIR, this.tab, this.list], name };
  }

  /** A stored output as a File (read from disk when used). */
  async file(name) {
    return (await (await this.dir).getFileHandle(name)).getFile();
  }

  /** Forgets every output of the current list and starts a new one; the old folder is removed once
   * `ready` (the workers closing their files in it) has settled. */
  async clear(ready) {
    const old = this.list;
    this.newList();
    await ready;
    const tabDir = await this.base.getDirectoryHandle(this.tab, { create: true });
    await tabDir.removeEntry(old, { recursive: true }).catch(() => {});
  }
}

const CHUNK = 256 * 1024;

export class ReportStore {
  constructor() {
    this.chunks = []; // Blobs of JSON texts, comma-separated
    this.pending = [];
    this.pendingSize = 0;
    this.count = 0;
  }

  /** Keeps one report; returns a reference for get(). */
  add(report) {
    const text = JSON.stringify(report);
    const ref = { chunk: this.chunks.length, index: this.pending.length };
    this.pending.push(text);
    this.pendingSize += text.length;
    this.count++;
    if (this.pendingSize >= CHUNK) this.flush();
    return ref;
  }

  flush() {
    if (!this.pending.length) return;
    const offsets = [];
    let at = 0;
    const enc = new TextEncoder();
    const parts = this.pending.map((t) => enc.encode(t));
    for (const p of parts) {
      offsets.push([at, at + p.length]);
      at += p.length;
    }
    this.chunks.push({ blob: new Blob(parts, { type: 'application/json' }), offsets });
    this.pending = [];
    this.pendingSize = 0;
  }

  async get(ref) {
    if (ref.chunk === this.chunks.length) return JSON.parse(this.pending[ref.index]);
    const c = this.chunks[ref.chunk];
    const [a, b] = c.offsets[ref.index];
    return JSON.parse(await c.blob.slice(a, b).text());
  }

  /** The reports of `refs`, in that order, as the JSON text of an array (a Blob; nothing is parsed). */
  async arrayBlob(refs) {
    this.flush();
    const parts = ['['];
    refs.forEach((ref, i) => {
      const c = this.chunks[ref.chunk];
      const [a, b] = c.offsets[ref.index];
      if (i) parts.push(',');
      parts.push(c.blob.slice(a, b));
    });
    parts.push(']');
    return new Blob(parts, { type: 'application/json' });
  }
}
