// Service worker: keeps the page usable offline after the first visit, and streams ZIP downloads.
//
// - Offline: on install, the page, its scripts, the vendored libraries and the WebAssembly engine are
//   stored in the Cache API. Requests for them go to the network first (so an update is seen at once)
//   and fall back to the stored copy when the network is off.
// - Downloads: the page posts {type: 'download', id, name, mime, stream} (a transferred ReadableStream);
//   the next request for ./__download__/<id>/<name> is answered with that stream as an attachment, so a
//   ZIP larger than memory goes to disk as it is made. Nothing is sent anywhere: it never leaves the
//   browser.
// This worker makes no request of its own to any other host.

const CACHE = 'dicom-deid-v3';
const PRECACHE = [
  './',
  './index.html',
  './style.css',
  './app.js',
  './batch.js',
  './dicom-image.js',
  './inputs.js',
  './messages.js',
  './save.js',
  './store.js',
  './sources.js',
  './worker.js',
  './worker-client.js',
  './embed.js',
  './embed.css',
  './embed-example.html',
  './embed-example.js',
  './icon.svg',
  './vendor/fflate.js',
  './vendor/client-zip.js',
  './pkg/dicom_deid.js',
  './pkg/dicom_deid_bg.wasm',
  // the pixel engine and its OCR models (burned-in text cleaning is on by default)
  './pkg/pixel/dicom_deid_pixel.js',
  './pkg/pixel/dicom_deid_pixel_bg.wasm',
  './pkg/pixel/models/det.onnx',
  './pkg/pixel/models/rec.onnx',
  './pkg/pixel/models/rec-fast.onnx',
  './pkg/pixel/models/rec-fast.txt',
];

const downloads = new Map();

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // one by one, so that a missing file (pkg/ not built yet) does not stop the others
      await Promise.all(PRECACHE.map((u) => cache.add(new Request(u, { cache: 'no-cache' })).catch(() => {})));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const m = event.data || {};
  if (m.type === 'download' && m.stream) {
    downloads.set(m.id, m);
    // forget a download nobody asked for
    setTimeout(() => downloads.delete(m.id), 60_000);
    if (event.ports[0]) event.ports[0].postMessage({ ok: true });
  }
  // {type: 'ping'} only keeps this worker alive during a long download
});

function attachment(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || req.method !== 'GET') return;
  const scope = new URL(self.registration.scope);
  const rel = url.pathname.startsWith(scope.pathname) ? url.pathname.slice(scope.pathname.length) : null;
  if (rel !== null && rel.startsWith('__download__/')) {
    const [, id] = rel.split('/');
    const d = downloads.get(id);
    downloads.delete(id);
    if (!d) {
      event.respondWith(new Response('This download has expired: start it again from the page.', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }));
      return;
    }
    event.respondWith(
      new Response(d.stream, {
        headers: {
          'Content-Type': d.mime || 'application/octet-stream',
          'Content-Disposition': attachment(d.name || 'download'),
          'X-Content-Type-Options': 'nosniff',
        },
      }),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const res = await fetch(req);
        if (res.ok && res.status === 200) cache.put(req, res.clone()).catch(() => {});
        return res;
      } catch (e) {
        const hit = (await cache.match(req, { ignoreSearch: true })) ||
          (req.mode === 'navigate' ? await cache.match('./index.html') : null);
        if (hit) return hit;
        throw e;
      }
    })(),
  );
});
