// What the room keeps on the device for a Wi-Fi drop: the service worker's
// document cache (see /sw.js) and an outbox of changes made while offline,
// sent in order on reconnect. Logging out clears both.

const OUTBOX_PREFIX = "meetings.outbox.";
export const CACHE_PREFIX = "meetings-";

/** Register the service worker (root scope); resolves to the registration or null. */
export async function registerServiceWorker(url = "/sw.js") {
  if (!("serviceWorker" in navigator)) return null;
  try {
    return await navigator.serviceWorker.register(url, { scope: "/" });
  } catch (err) {
    console.warn("service worker not registered", err);
    return null;
  }
}

/** Ask the service worker to keep these URLs (today's documents) for offline reading. */
export async function precache(urls) {
  if (!("serviceWorker" in navigator) || !urls.length) return;
  const reg = await navigator.serviceWorker.ready;
  reg.active?.postMessage({ type: "precache", urls });
}

export class Outbox {
  constructor(meetingId) {
    this.key = OUTBOX_PREFIX + meetingId;
  }

  all() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || "[]");
    } catch {
      return [];
    }
  }

  push(name, payload) {
    const items = this.all();
    items.push({ name, payload, at: Date.now() });
    localStorage.setItem(this.key, JSON.stringify(items));
  }

  /** Send queued items in order with `send(name, payload)`; keep the rest when one fails on transport. */
  async flush(send) {
    let items = this.all();
    while (items.length) {
      const [first] = items;
      const ack = await send(first.name, first.payload);
      if (ack === null) return false; // still offline: keep it for the next reconnect
      // A refused item (ok: false) is dropped: resending it would be refused again.
      items = this.all().slice(1);
      localStorage.setItem(this.key, JSON.stringify(items));
    }
    return true;
  }
}

/** Remove everything the app stored on this device: caches, outboxes, the service worker. */
export async function clearOfflineData() {
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const key = localStorage.key(i);
    if (key && key.startsWith("meetings.")) localStorage.removeItem(key);
  }
  sessionStorage.clear();
  if ("caches" in window) {
    for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX)) await caches.delete(name);
  }
  if ("serviceWorker" in navigator) {
    for (const reg of await navigator.serviceWorker.getRegistrations()) await reg.unregister();
  }
}
