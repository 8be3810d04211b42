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
      // A body cut off mid-way (the connection dropped) is simply not kept.
      caches.open(CACHE).then((cache) => cache.put(path + (SHELL.test(path) ? url.search : ""), copy)).catch(() => {});
    }
    return resp;
  }).catch(async () => {
    const cache = await caches.open(CACHE);
    return (await cache.match(path + (SHELL.test(path) ? url.search : ""))) || (await cache.match(path)) || Response.error();
  }));
});

// Web Push (meetings/notifications/channels/push.py): the payload is {title, body, url, tag, kind}.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  const url = typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/";
  event.waitUntil(self.registration.showNotification(data.title || "Meetings", {
    body: data.body || "",
    tag: data.tag || undefined,
    data: { url },
  }));
});

// A tap opens the notification's page: the window already showing it, else a new one (never
// another open window: a delegate may be in the middle of a vote there).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === url && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(url);
  })());
});
