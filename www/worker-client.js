// A pool of module workers (worker.js) behind promises.
//
//   const pool = new WorkerPool({ size: 4 });
//   await pool.setup('configure', { config, key }, { reset: true });  // every worker, now and respawned
//   const { bytes, report } = await pool.call('process', { source, name }, { signal });
//   await pool.broadcast('closePacks');  // every worker started so far, once
//
// - call(): queued, handed to a worker. `transfer` lists buffers to move (not copy) to the worker;
//   results are transferred back by the worker.
// - Pipelining: a worker may hold `depth` calls (default 3), so it starts the next one without waiting
//   for the page's main thread; a call with a transfer list only goes to an idle worker, and nothing
//   is queued behind it (so that a call whose worker is stopped can always be sent again).
// - AbortSignal: a queued call is dropped; a call waiting in a worker is skipped by it; a running call
//   is stopped by terminating its worker, which is replaced by a new one (the setup calls are replayed
//   on it first), and the other calls it held are sent again. The promise rejects with a DOMException
//   named "AbortError".
// - Workers are started on demand, up to `size`; the WebAssembly is initialised once per worker.
// - A worker that reports a fatal error (a trap in the engine, out of memory) is replaced, and so is
//   one whose result says `recycle` (its WebAssembly memory grew for a large file and cannot shrink).

const DEFAULT_MAX = 8;

export function defaultPoolSize(max = DEFAULT_MAX) {
  const n = (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 2;
  return Math.max(1, Math.min(max, n));
}

function abortError() {
  return new DOMException('The operation was aborted.', 'AbortError');
}

export class WorkerError extends Error {
  constructor(error) {
    super(error && error.message ? error.message : String(error));
    this.name = 'WorkerError';
    this.kind = (error && error.kind) || 'internal';
  }
}

export class WorkerPool {
  constructor({ size = defaultPoolSize(), depth = 3, url = new URL('./worker.js', import.meta.url) } = {}) {
    this.size = Math.max(1, size | 0);
    this.depth = Math.max(1, depth | 0);
    this.url = url;
    this.slots = [];
    this.queue = [];
    this.setupLog = [];
    this.nextId = 1;
    this.broken = null;
    this.closed = false;
  }

  // ---- public API ----

  /** Runs `method` on one worker. */
  call(method, args, { transfer = [], signal } = {}) {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise((resolve, reject) => {
      const task = { method, args, transfer, resolve, reject, signal, slot: null, msgId: 0, done: false };
      if (signal) {
        task.onAbort = () => this.abortTask(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.pump();
    });
  }

  /**
   * Runs `method` on every worker and remembers it, so that a worker started later (or replacing a
   * stopped one) gets it too, in the same order. `reset` forgets the earlier setup calls first.
   * Resolves with the first worker's result; rejects if any worker rejects.
   */
  async setup(method, args, { reset = false } = {}) {
    if (this.broken) throw this.broken;
    if (reset) this.setupLog = [];
    if (this.slots.length === 0) this.spawn();
    this.setupLog.push({ method, args });
    const results = await Promise.all(this.slots.map((s) => this.post(s, method, args)));
    return results[0];
  }

  /** Runs `method` once on every worker started so far (not replayed on later ones); resolves when all have. */
  broadcast(method, args) {
    return Promise.all(this.slots.map((s) => this.post(s, method, args)));
  }

  /** Stops every queued and running call (AbortError) and replaces the busy workers. */
  cancelAll() {
    for (const t of this.queue.splice(0)) this.settle(t, null, abortError());
    for (const s of this.slots) if (s.tasks.length) this.respawn(s, abortError(), { all: true });
  }

  /** Number of workers started so far. */
  get started() {
    return this.slots.length;
  }

  terminate() {
    this.closed = true;
    this.cancelAll();
    for (const s of this.slots) s.worker.terminate();
    this.slots = [];
  }

  // ---- internals ----

  spawn() {
    const slot = { worker: null, tasks: [], pending: new Map() };
    this.start(slot);
    this.slots.push(slot);
    return slot;
  }

  start(slot) {
    const worker = new Worker(this.url, { type: 'module', name: 'dicom-deid' });
    slot.worker = worker;
    worker.onmessage = (ev) => this.onMessage(slot, worker, ev.data);
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      const err = new WorkerError({
        kind: 'unavailable',
        message: `the de-identification worker could not start${ev.message ? `: ${ev.message}` : ''}`,
      });
      this.broken = err;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      for (const t of slot.tasks.splice(0)) this.settle(t, null, err);
      for (const t of this.queue.splice(0)) this.settle(t, null, err);
    };
    for (const { method, args } of this.setupLog) {
      // replayed setup: a failure here surfaces on the next call to this worker
      this.post(slot, method, args).catch(() => {});
    }
  }

  // Replaces the worker of `slot`. The calls it held are rejected with `reason` when `all`, or when
  // they are `culprit`; the others are queued again, first.
  respawn(slot, reason, { all = false, culprit = null } = {}) {
    slot.worker.onmessage = null;
    slot.worker.onerror = null;
    slot.worker.terminate();
    for (const p of slot.pending.values()) if (!p.task) p.reject(reason);
    slot.pending.clear();
    const held = slot.tasks.splice(0);
    const again = [];
    for (const t of held) {
      t.slot = null;
      if (all || t === culprit) this.settle(t, null, reason);
      else if (t.signal?.aborted) this.settle(t, null, abortError());
      else again.push(t);
    }
    this.queue.unshift(...again);
    if (!this.closed) this.start(slot);
    this.pump();
  }

  post(slot, method, args, transfer = [], task = null) {
    const id = this.nextId++;
    if (task) task.msgId = id;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, task });
      try {
        slot.worker.postMessage({ id, method, args }, transfer);
      } catch (e) {
        slot.pending.delete(id);
        reject(e);
      }
    });
  }

  onMessage(slot, worker, msg) {
    if (slot.worker !== worker || !msg) return;
    const p = slot.pending.get(msg.id);
    if (!p) return;
    slot.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new WorkerError(msg.error));
    if (msg.ok && msg.result && msg.result.recycle) {
      // the worker holds the memory of a large file: a fresh one takes its place (the calls it still
      // held are sent again)
      queueMicrotask(() => {
        if (slot.worker === worker) this.respawn(slot, new WorkerError({ kind: 'internal', message: 'the worker was replaced' }));
      });
    }
    if (msg.fatal) {
      // after the failed call has been settled (its promise callbacks run first)
      queueMicrotask(() => {
        if (slot.worker === worker) this.respawn(slot, new WorkerError({ kind: 'internal', message: 'the worker was restarted' }));
      });
    }
  }

  pick(task) {
    const idle = this.slots.find((s) => s.tasks.length === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.spawn();
    if (task.transfer.length) return null;
    let best = null;
    for (const s of this.slots) {
      if (s.tasks.length >= this.depth || s.tasks.some((t) => t.transfer.length)) continue;
      if (!best || s.tasks.length < best.tasks.length) best = s;
    }
    return best;
  }

  pump() {
    while (this.queue.length && !this.closed) {
      const task = this.queue[0];
      if (task.signal?.aborted) {
        this.queue.shift();
        this.settle(task, null, abortError());
        continue;
      }
      const slot = this.pick(task);
      if (!slot) return;
      this.queue.shift();
      task.slot = slot;
      slot.tasks.push(task);
      const worker = slot.worker;
      this.post(slot, task.method, task.args, task.transfer, task).then(
        (r) => this.finish(slot, worker, task, r, null),
        (e) => this.finish(slot, worker, task, null, e),
      );
    }
  }

  finish(slot, worker, task, result, error) {
    if (slot.worker === worker) {
      const i = slot.tasks.indexOf(task);
      if (i >= 0) slot.tasks.splice(i, 1);
    }
    this.settle(task, result, error);
    this.pump();
  }

  settle(task, result, error) {
    if (task.done) return;
    task.done = true;
    if (task.signal && task.onAbort) task.signal.removeEventListener('abort', task.onAbort);
    if (error) task.reject(error);
    else task.resolve(result);
  }

  abortTask(task) {
    if (task.done) return;
    const i = this.queue.indexOf(task);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(task, null, abortError());
      return;
    }
    const slot = task.slot;
    if (!slot) return;
    const at = slot.tasks.indexOf(task);
    if (at === 0) {
      // running: only stopping the worker stops it
      this.respawn(slot, abortError(), { culprit: task });
    } else if (at > 0) {
      // still waiting in the worker: it will skip it
      slot.tasks.splice(at, 1);
      slot.worker.postMessage({ id: 0, method: 'cancel', args: { id: task.msgId } });
      this.settle(task, null, abortError());
      this.pump();
    }
  }
}
