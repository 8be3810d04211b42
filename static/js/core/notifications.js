// The notification bell in the header of the room and the console: the unread count, the list,
// read marks, and the user's own channel switches. Live: "notification.new" and "notification.read"
// arrive on the page's LiveClient socket (the user's own room); without one, or when a notice was
// written by the job consumer and no message queue links it to this server, the bell looks again
// every minute and whenever the page comes back to the foreground.
import { api } from "./api.js";
import { el } from "./dom.js";
import { enablePush } from "./push.js";

const STRINGS = {
  vi: {
    bell: "Thông báo", unread: "{n} chưa đọc", empty: "Chưa có thông báo.", allRead: "Đã đọc tất cả",
    setup: "Cài đặt thông báo", settings: "Nhận thông báo qua", email: "Thư điện tử", sms: "Tin nhắn SMS", push: "Thông báo đẩy trên máy",
    inapp: "Trong ứng dụng", quiet: "Giờ yên lặng (SMS và thông báo đẩy chờ đến hết giờ)", from: "Từ", until: "đến",
    save: "Lưu", saved: "Đã lưu.", failed: "Không lưu được, thử lại.", close: "Đóng", more: "Xem thêm",
  },
  en: {
    bell: "Notifications", unread: "{n} unread", empty: "No notifications yet.", allRead: "Mark all read",
    setup: "Notification settings", settings: "Notify me by", email: "E-mail", sms: "SMS", push: "Push on this device", inapp: "In the app",
    quiet: "Quiet hours (SMS and push wait until they end)", from: "From", until: "to",
    save: "Save", saved: "Saved.", failed: "Could not save; try again.", close: "Close", more: "Show more",
  },
};
const CHANNELS = ["email", "sms", "push", "inapp"];
const LOOK_AGAIN_MS = 60_000;

const words = () => STRINGS[document.documentElement.lang === "en" ? "en" : "vi"];
const say = (key, vars = {}) => words()[key].replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
// Only paths of this server are followed (a line's url is ours, but never trust it to be).
const safePath = (url) => (typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : null);

function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const lang = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
  return date.toLocaleString(lang, { hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit" });
}

// A drawn bell: an emoji needs a colour font that kiosk tablets often lack.
function bellIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "bell-icon");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6v-5a7 7 0 0 0-5-6.71V3.5a2 2 0 0 0-4 0v.79"
    + "A7 7 0 0 0 5 11v5l-2 2v1h18v-1z");
  svg.append(path);
  return svg;
}

export class NotificationBell {
  constructor(root) {
    this.root = root;
    this.items = new Map(); // id → line, newest first when listed
    this.unread = 0;
    this.loaded = false;
    this.oldest = null;
    this.button = el("button", { type: "button", class: "bell-button secondary", "aria-expanded": "false",
      "aria-controls": "bell-panel", "data-testid": "bell", onclick: () => this.toggle() },
    bellIcon(),
    (this.badge = el("span", { class: "bell-badge", "data-testid": "bell-count", hidden: true }, "0")));
    this.list = el("ol", { class: "bell-list", "data-testid": "bell-list" });
    this.more = el("button", { type: "button", class: "secondary bell-more", hidden: true, onclick: () => this.load(true) },
      say("more"));
    this.panel = el("section", { id: "bell-panel", class: "bell-panel", role: "region", "aria-label": say("bell"), hidden: true },
      el("div", { class: "bell-head" },
        el("h2", {}, say("bell")),
        el("button", { type: "button", class: "secondary", "data-testid": "bell-read-all", onclick: () => this.readAll() },
          say("allRead")),
        el("button", { type: "button", class: "secondary", "aria-label": say("close"), onclick: () => this.toggle(false) }, "×")),
      this.list, this.more, this.settingsForm());
    root.append(this.button, this.panel);
    document.addEventListener("keydown", (ev) => ev.key === "Escape" && this.toggle(false));
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && this.refresh());
    setInterval(() => document.visibilityState === "visible" && this.refresh(), LOOK_AGAIN_MS);
    this.refresh();
  }

  /** Listen on a LiveClient's socket: its "notice" events carry the user's private notices. */
  attach(live) {
    if (!live || this.live === live) return;
    this.live = live;
    live.addEventListener("notice", (ev) => this.notice(ev.detail.name, ev.detail.data));
    live.addEventListener("state", (ev) => ev.detail.state === "online" && this.refresh());
  }

  notice(name, data) {
    if (name === "notification.new" && data?.notification) {
      this.items.set(data.notification.id, data.notification);
      this.setUnread(data.unread);
      if (this.loaded) this.render();
    } else if (name === "notification.read" && data) {
      for (const id of data.ids || []) {
        const line = this.items.get(id);
        if (line) line.read_at ||= new Date().toISOString();
      }
      this.setUnread(data.unread);
      if (this.loaded) this.render();
    }
  }

  setUnread(n) {
    this.unread = Math.max(0, Number(n) || 0);
    this.badge.textContent = this.unread > 99 ? "99+" : String(this.unread);
    this.badge.hidden = this.unread === 0;
    this.button.setAttribute("aria-label", this.unread ? `${say("bell")}: ${say("unread", { n: this.unread })}` : say("bell"));
  }

  async refresh() {
    try {
      const { unread } = await api("GET", "/me/notifications/unread");
      if (unread !== this.unread && this.loaded) await this.load();
      this.setUnread(unread);
    } catch { /* offline: the badge keeps its last count */ }
  }

  async load(older = false) {
    const query = older && this.oldest ? `?before=${this.oldest}` : "";
    const page = await api("GET", `/me/notifications${query}`);
    if (!older) this.items.clear();
    for (const line of page.items) this.items.set(line.id, line);
    this.oldest = page.items.length ? page.items[page.items.length - 1].id : this.oldest;
    this.more.hidden = page.items.length < 50;
    this.loaded = true;
    this.setUnread(page.unread);
    this.render();
  }

  render() {
    const lines = [...this.items.values()].sort((a, b) => b.id - a.id);
    this.list.replaceChildren(...(lines.length ? lines.map((line) => this.line(line))
      : [el("li", { class: "muted" }, say("empty"))]));
  }

  line(n) {
    return el("li", { class: n.read_at ? "bell-line" : "bell-line unread", dataset: { id: n.id } },
      el("button", { type: "button", class: "bell-open", onclick: () => this.open(n) },
        el("strong", {}, n.title), el("span", { class: "bell-body" }, n.body),
        el("time", { datetime: n.created_at, class: "muted" }, when(n.created_at))));
  }

  async open(n) {
    if (!n.read_at) {
      try {
        const read = await api("POST", `/me/notifications/${n.id}/read`);
        this.items.set(n.id, read);
        this.setUnread(this.unread - 1);
        this.render();
      } catch { /* offline: opened anyway, marked next time */ }
    }
    const path = safePath(n.url);
    if (path && path !== window.location.pathname) window.location.assign(path);
  }

  async readAll() {
    try {
      await api("POST", "/me/notifications/read-all");
      for (const line of this.items.values()) line.read_at ||= new Date().toISOString();
      this.setUnread(0);
      this.render();
    } catch { /* offline */ }
  }

  async toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) {
      await Promise.all([this.load().catch(() => {}), this.loadSettings()]);
    }
  }

  settingsForm() {
    this.status = el("p", { class: "muted", role: "status", "aria-live": "polite" });
    this.checks = Object.fromEntries(CHANNELS.map((c) => [c, el("input", { type: "checkbox", name: c, id: `bell-${c}` })]));
    this.quietFrom = el("input", { type: "time", id: "bell-quiet-from", name: "quiet_from" });
    this.quietUntil = el("input", { type: "time", id: "bell-quiet-until", name: "quiet_until" });
    const form = el("form", { class: "bell-settings", "data-testid": "bell-settings" },
      el("fieldset", {}, el("legend", {}, say("settings")),
        ...CHANNELS.map((c) => el("label", { for: `bell-${c}` }, this.checks[c], " ", say(c)))),
      el("fieldset", {}, el("legend", {}, say("quiet")),
        el("label", { for: "bell-quiet-from" }, say("from"), " ", this.quietFrom),
        el("label", { for: "bell-quiet-until" }, say("until"), " ", this.quietUntil)),
      el("button", { type: "submit" }, say("save")), this.status);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.saveSettings();
    });
    return el("details", { class: "bell-more-settings" }, el("summary", {}, say("setup")), form);
  }

  async loadSettings() {
    try {
      const mine = await api("GET", "/me/notification-settings");
      for (const c of CHANNELS) this.checks[c].checked = Boolean(mine[c]);
      this.quietFrom.value = mine.quiet_from || "";
      this.quietUntil.value = mine.quiet_until || "";
    } catch { /* offline */ }
  }

  async saveSettings() {
    const body = Object.fromEntries(CHANNELS.map((c) => [c, this.checks[c].checked]));
    body.quiet_from = this.quietFrom.value || null;
    body.quiet_until = this.quietUntil.value || null;
    try {
      await api("PUT", "/me/notification-settings", body);
      // Turning push on is the user's gesture the browser's permission prompt needs: subscribe this tablet.
      if (body.push) await enablePush({ ask: true }).catch((err) => console.warn("push not enabled", err));
      this.status.textContent = say("saved");
    } catch {
      this.status.textContent = say("failed");
    }
  }
}

/** Mount the bell in #notif-bell (or the header) and follow the page's LiveClient once it exists. */
export function mountBell() {
  let root = document.getElementById("notif-bell");
  if (!root) {
    const header = document.querySelector(".topbar");
    if (!header) return null;
    root = el("div", { id: "notif-bell", class: "bell" });
    header.insertBefore(root, header.querySelector(".logout"));
  }
  const bell = new NotificationBell(root);
  // core/live.js announces every LiveClient it makes (the room's and the console's).
  bell.attach(globalThis.__liveClient);
  window.addEventListener("live:client", (ev) => bell.attach(ev.detail));
  return bell;
}

export const bell = mountBell();
