// Saving outputs without holding them all in memory.
//
// The ZIP is a stream (client-zip, stored entries, Zip64 when needed) that reads one output at a
// time. It goes, in order of preference:
//   1. to a file the user picks (File System Access API, showSaveFilePicker), written as it is made;
//   2. through the service worker (sw.js), which answers a download request with the stream;
//   3. into a Blob, then a normal download (the browser may keep a large Blob on disk).
// writeToDirectory() writes outputs straight into a folder the user picks (showDirectoryPicker).

import { makeZip } from './vendor/client-zip.js';

export const canPickSaveFile = () => typeof window.showSaveFilePicker === 'function';
export const canPickDirectory = () => typeof window.showDirectoryPicker === 'function';

/** A ZIP stream of `entries`, an (async) iterable of {name, lastModified?, input: Blob | Uint8Array}. */
export function zipStream(entries) {
  return makeZip(entries, { buffersAreUTF8: true });
}

/** Saves a small Blob (a report) with a normal download. */
export function downloadBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Asks for the place to save a file. Call it first thing in a click handler (the browser requires the
 * user's gesture). Returns a "sink": {kind, write(stream) → Promise} or null when the user cancelled.
 */
export async function pickSink(name, { mime = 'application/zip', description = 'ZIP archive', extension = '.zip' } = {}) {
  if (canPickSaveFile()) {
    try {
      const handle = await window.showSaveFilePicker({
        suggestedName: name,
        types: [{ description, accept: { [mime]: [extension] } }],
      });
      return {
        kind: 'file',
        async write(stream) {
          const writable = await handle.createWritable();
          await stream.pipeTo(writable);
        },
      };
    } catch (e) {
      if (e && e.name === 'AbortError') return null; // the user closed the dialog
      // a browser that has the function but refuses (policy, headless): fall through
    }
  }
  const sw = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (sw && typeof ReadableStream !== 'undefined') {
    return { kind: 'service-worker', write: (stream) => streamThroughServiceWorker(sw, stream, name, mime) };
  }
  return {
    kind: 'blob',
    async write(stream) {
      const blob = await new Response(stream).blob();
      downloadBlob(new Blob([blob], { type: mime }), name);
    },
  };
}

let downloadCounter = 0;

// Hands the stream to the service worker, then opens its download URL in a hidden frame; the service
// worker answers that request with the stream as an attachment. Resolves when the stream has been read.
async function streamThroughServiceWorker(sw, stream, name, mime) {
  const id = `${Date.now().toString(36)}-${++downloadCounter}-${Math.random().toString(36).slice(2, 8)}`;
  let finished;
  const done = new Promise((resolve, reject) => (finished = { resolve, reject }));
  // watch the stream's end, and ping the service worker so it is not stopped during a long download
  const ping = setInterval(() => sw.postMessage({ type: 'ping' }), 10_000);
  const watched = stream.pipeThrough(
    new TransformStream({
      flush() {
        clearInterval(ping);
        finished.resolve();
      },
    }),
  );
  const ack = new MessageChannel();
  const ready = new Promise((resolve, reject) => {
    ack.port1.onmessage = (e) => (e.data && e.data.ok ? resolve() : reject(new Error('the service worker refused the download')));
    setTimeout(() => reject(new Error('the service worker did not answer')), 10_000);
  });
  try {
    sw.postMessage({ type: 'download', id, name, mime, stream: watched }, [watched, ack.port2]);
  } catch (e) {
    clearInterval(ping);
    throw e; // no transferable streams: the caller falls back to a Blob
  }
  await ready;
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'download';
  frame.src = new URL(`./__download__/${id}/${encodeURIComponent(name)}`, document.baseURI).href;
  document.body.append(frame);
  try {
    await done;
  } finally {
    clearInterval(ping);
    setTimeout(() => frame.remove(), 30_000);
  }
}

/** Writes `stream` to the sink; falls back to a Blob download when the service worker route fails. */
export async function writeToSink(sink, makeStream, name, mime = 'application/zip') {
  try {
    await sink.write(makeStream());
    return sink.kind;
  } catch (e) {
    if (sink.kind !== 'service-worker') throw e;
    const blob = await new Response(makeStream()).blob();
    downloadBlob(new Blob([blob], { type: mime }), name);
    return 'blob';
  }
}

/** Writes one file into a directory handle, creating the sub-folders of `path`. */
export async function writeToDirectory(dir, path, data) {
  const parts = path.split('/').filter((p) => p && p !== '.' && p !== '..');
  const fileName = parts.pop();
  let d = dir;
  for (const p of parts) d = await d.getDirectoryHandle(p, { create: true });
  const fh = await d.getFileHandle(fileName, { create: true });
  const w = await fh.createWritable();
  try {
    await w.write(data);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
  return fh;
}
