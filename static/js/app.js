// Loaded on every page. Logging out wipes what the offline mode kept on this
// device (cached documents, queued changes) before the session ends, so a
// shared tablet hands nothing to the next person.
import { clearOfflineData } from "./core/offline.js";
import { disablePush } from "./core/push.js";

document.addEventListener("submit", async (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-logout") || form.dataset.cleared) return;
  ev.preventDefault();
  try {
    await disablePush().catch(() => {}); // the server forgets this browser's push subscription
    await clearOfflineData();
  } finally {
    form.dataset.cleared = "1";
    form.submit();
  }
});
