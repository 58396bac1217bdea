// Service worker: after one visit the app loads and runs with the network off.
//
// On install it fetches index.html, finds the build's assets in it (Trunk names them with a
// content hash, scripts/harden-dist.mjs the bootstrap it moves out of index.html) and caches
// them together with the files index.html does not name (the two workers and their wasm, the
// manifest, the icon). Hashed files are served from the cache first (their
// name changes when their content does); everything else goes to the network first and falls
// back to the cache, so a new deployment is picked up on the next online visit.
const CACHE = 'anomaly-detector';
const UNNAMED_IN_INDEX = ['./', './worker_loader.js', './worker.js', './worker_bg.wasm',
  './files_worker_loader.js', './files_worker.js', './files_worker_bg.wasm',
  './manifest.webmanifest', './icon.svg'];
const HASHED = /-[0-9a-f]{16}(_bg)?\.(js|wasm|css)$/;

async function precache() {
  const index = await fetch('./', { cache: 'no-cache' });
  const html = await index.clone().text();
  const named = [...html.matchAll(/(?:href|src|module_or_path:)\s*=?\s*["']\.\/([^"']+)["']/g)]
    .map((m) => `./${m[1]}`);
  const urls = [...new Set([...UNNAMED_IN_INDEX, ...named])];
  const cache = await caches.open(CACHE);
  await cache.put('./', index);
  await cache.addAll(urls.filter((u) => u !== './'));
  // Drop what an older build cached and this one no longer names.
  const keep = new Set(urls.map((u) => new URL(u, self.registration.scope).href));
  for (const request of await cache.keys()) {
    if (!keep.has(request.url)) await cache.delete(request);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  // Navigations (with any query string) are the app's page.
  const key = request.mode === 'navigate' ? './' : request;
  if (HASHED.test(url.pathname)) {
    event.respondWith(caches.match(key).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      })
      .catch(() => caches.match(key, { ignoreSearch: true }).then((hit) => hit || Response.error())),
  );
});
