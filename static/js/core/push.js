// Web Push on the tablet: after login, when the server has VAPID keys, subscribe this
// browser (the service worker, /sw.js, shows what arrives); at logout, unsubscribe it.
import { api } from "./api.js";

const decode = (base64url) => {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
};

const sameKey = (buffer, key) => {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  return a.length === key.length && a.every((v, i) => v === key[i]);
};

/** Subscribe this browser for the logged-in user; resolves to true when push is on. */
export async function enablePush({ ask = true } = {}) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return false;
  const { public_key: publicKey } = await api("GET", "/push/key");
  if (!publicKey) return false; // the server has no VAPID key (flask push keys)
  if (Notification.permission === "default" && ask) await Notification.requestPermission();
  if (Notification.permission !== "granted") return false;
  const registration = await navigator.serviceWorker.ready;
  const key = decode(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, key)) {
    await subscription.unsubscribe(); // the server's key was replaced: subscribe again with the new one
    subscription = null;
  }
  subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await api("POST", "/push/subscriptions", subscription.toJSON());
  return true;
}

/** At logout: the server forgets this browser for the user, and the browser drops the subscription. */
export async function disablePush() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager?.getSubscription();
  if (!subscription) return;
  try {
    await api("DELETE", "/push/subscriptions", { endpoint: subscription.endpoint });
  } finally {
    await subscription.unsubscribe();
  }
}
