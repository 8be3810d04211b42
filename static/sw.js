// Offline service worker: today's meeting documents and the room's code stay readable
// through a Wi-Fi drop. Documents are cached when the room asks (postMessage "precache")
// and whenever they are fetched; the network always wins when it answers.
const CACHE = "meetings-v1";
const SHELL = /^\/(static|vendor)\//;
const DOCUMENT = /^\/api\/v1\/documents\/\d+\/file$/;
const ROOM = /^\/meetings\/\d+\/room$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "precache" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(data.urls.map((url) =>
      fetch(url, { credentials: "same-origin" }).then((resp) => resp.ok && cache.put(url, resp)).catch(() => {})))));
  }
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (!(SHELL.test(path) || DOCUMENT.test(path) || ROOM.test(path))) return;
  // Network first (the server decides access and freshness), the cache when offline.
  event.respondWith(fetch(req).then((resp) => {
    // Range requests answer 206: cache only whole files.
    if (resp.ok && resp.status === 200) {
      const copy = resp.clone();
      caches.open(CACHE).then((cache) => cache.put(path + (SHELL.test(path) ? url.search : ""), copy));
    }
    return resp;
  }).catch(async () => {
    const cache = await caches.open(CACHE);
    return (await cache.match(path + (SHELL.test(path) ? url.search : ""))) || (await cache.match(path)) || Response.error();
  }));
});
