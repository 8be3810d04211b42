// The delegate room: agenda, document viewer following the presenter, speaking,
// voting, annotations; live over the socket with catch-up, readable offline.
import { $, el, fill, readJSON, t, toast } from "../core/dom.js";
import { bindConnectionIndicator, LiveClient } from "../core/live.js";
import { precache, registerServiceWorker } from "../core/offline.js";
import { enablePush } from "../core/push.js";
import { MeetingStore } from "../core/store.js";
import { PROTOCOL } from "../core/protocol.js";
import { Annotator } from "./annotate.js";
import { CommitteePanel } from "./committee.js";
import { SpeakPanel } from "./speak.js";
import { PdfViewer } from "./viewer.js";
import { VotePanel } from "./vote.js";

const boot = readJSON("boot");
const me = boot.me;
const store = new MeetingStore({ meeting: boot.meeting, agenda: boot.items });
const live = new LiveClient(boot.meeting.id);
const docs = new Map(boot.documents.map((d) => [d.id, d]));
const docUrl = (id) => boot.urls.document_file.replace("{id}", id);

bindConnectionIndicator(live, $("#conn"), {
  online: t("online"), offline: t("offline"), syncing: t("syncing"), connecting: t("connecting"),
});
document.body.dataset.conn = live.state;
live.addEventListener("state", (e) => { document.body.dataset.conn = e.detail.state; });
live.addEventListener("snapshot", (e) => store.loadSnapshot(e.detail));
live.addEventListener("event", (e) => store.apply(e.detail));
live.addEventListener("error", (e) => toast(t("error", { message: e.detail?.message || "" }), "error"));

// ------------------------------------------------------------------ viewer and presenter follow
const viewer = new PdfViewer({ stage: $("#stage"), thumbs: $("#thumbs") });
viewer.followTextLayer(live, docUrl); // a scan's OCR text layer arrived: read it again
const annotator = new Annotator({ viewer, live, me, meetingId: boot.meeting.id, bar: $("#annot-bar") });
let follow = true;

function canPresent() {
  return me.can_run || (store.state.presenter.presenter_id === me.id);
}

function setFollow(on, { quiet = false } = {}) {
  follow = on;
  $("#follow").setAttribute("aria-pressed", String(on));
  document.body.classList.toggle("following", on);
  if (on) followPresenter();
  else if (!quiet) toast(t("follow_off"));
}
$("#follow").addEventListener("click", () => setFollow(!follow, { quiet: true }));

/** Say why a document did not open; a network failure in words a delegate understands. */
function openFailed(err) {
  const network = !err?.status && /fetch|network/i.test(err?.message || "");
  toast(network ? t("doc_unreachable") : t("error", { message: err?.message || String(err) }), "error");
}

async function openDocument(id, page = 1) {
  const doc = docs.get(id);
  if (!doc) return;
  document.body.dataset.doc = String(id);
  markCurrentDoc(id);
  await viewer.open(id, docUrl(id), page);
}

// One follow at a time: page events that arrive while a document loads are applied after it.
let followBusy = false;
let followAgain = false;
async function followPresenter() {
  if (followBusy) {
    followAgain = true;
    return;
  }
  followBusy = true;
  try {
    do {
      followAgain = false;
      await followOnce();
    } while (followAgain);
  } finally {
    followBusy = false;
  }
}

async function followOnce() {
  const p = store.state.presenter;
  if (!follow || !p.document_id || !docs.has(p.document_id)) return;
  // The presenter drives: their own echoes would pull their page back while they turn ahead.
  if (canPresent() && viewer.doc) return;
  try {
    if (viewer.docId !== p.document_id || !viewer.doc) await openDocument(p.document_id, p.page || 1);
    else await viewer.show(p.page || 1);
    followRetry = 0;
  } catch (err) {
    openFailed(err);
    retryFollow();
  }
}

// A load that failed (hall Wi-Fi, a server still starting after a restart) is tried again,
// 1 s, 2 s, 4 s … apart (at most 15 s), for as long as the tablet follows the presenter; a
// reconnect tries at once. Without it the viewer stayed on "choose a document" until the
// presenter moved again.
let followRetry = 0;
let followTimer = null;
function retryFollow() {
  clearTimeout(followTimer);
  const wait = Math.min(15_000, 1000 * 2 ** followRetry);
  followRetry += 1;
  followTimer = setTimeout(() => { followTimer = null; followPresenter(); }, wait);
}
live.addEventListener("state", (e) => {
  if (e.detail.state === "online" && followTimer !== null) {
    clearTimeout(followTimer);
    followTimer = null;
    followPresenter();
  }
});

/** Tell the hall where the presenter is (only for those who may present, with "show on screens" on). */
function present(docId, page) {
  const p = store.state.presenter;
  if (!canPresent() || !follow) return;
  const change = docId !== p.document_id ? { document_id: docId, page } : { page };
  if (docId !== p.document_id || page !== p.page) live.request(PROTOCOL.presenter, { meeting_id: boot.meeting.id, ...change });
}

/** A page change the user asked for (buttons, keys, thumbnails, swipe): never the presenter's. */
async function userGoTo(page) {
  if (!viewer.doc) return;
  await viewer.show(page);
  const p = store.state.presenter;
  if (canPresent()) present(viewer.docId, viewer.pageNumber);
  else if (follow && p.document_id && (viewer.docId !== p.document_id || viewer.pageNumber !== p.page)) setFollow(false);
}

// What this tablet was reading, so a reload without a network opens it again from the offline cache.
const lastKey = `meetings.room.${boot.meeting.id}.last`;
live.addEventListener("state", (e) => {
  if (e.detail.state !== "offline" || viewer.doc || viewer.loading) return;
  try {
    const last = JSON.parse(localStorage.getItem(lastKey) || "null");
    if (last && docs.has(last.docId)) openDocument(last.docId, last.page).catch(() => {});
  } catch { /* nothing saved */ }
});

viewer.addEventListener("page", (e) => {
  const { page } = e.detail;
  localStorage.setItem(lastKey, JSON.stringify({ docId: viewer.docId, page }));
  $("#page-input").value = String(page);
  $("#page-input").max = String(viewer.pageCount);
  $("#page-count").textContent = t("page_of", { n: viewer.pageCount });
  document.body.dataset.page = String(page);
});
viewer.addEventListener("zoom", (e) => { $("#zoom-level").textContent = `${Math.round(e.detail.zoom * 100)}%`; });

$("#prev-page").addEventListener("click", () => userGoTo(viewer.pageNumber - 1));
$("#next-page").addEventListener("click", () => userGoTo(viewer.pageNumber + 1));
$("#page-input").addEventListener("change", (e) => userGoTo(Number(e.target.value)));
$("#zoom-in").addEventListener("click", () => viewer.setZoom(viewer.zoom * 1.25));
$("#zoom-out").addEventListener("click", () => viewer.setZoom(viewer.zoom / 1.25));
viewer.addEventListener("request-page", (e) => userGoTo(e.detail.page));
$("#thumbs-toggle").addEventListener("click", (e) => {
  const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
  e.currentTarget.setAttribute("aria-pressed", String(on));
  viewer.thumbsOff = !on;
  $("#thumbs").hidden = !on || !viewer.doc;
  viewer.render();
});
$("#find-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const hits = await viewer.find($("#find-input").value);
  $("#find-result").textContent = $("#find-input").value.trim()
    ? (hits.length ? t("find_hits", { pages: hits.join(", ") }) : t("find_none")) : "";
  if (hits.length && !hits.includes(viewer.pageNumber)) userGoTo(hits.find((n) => n > viewer.pageNumber) || hits[0]);
});
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select, [contenteditable]")) return;
  if (e.key === "ArrowRight" || e.key === "PageDown") userGoTo(viewer.pageNumber + 1);
  if (e.key === "ArrowLeft" || e.key === "PageUp") userGoTo(viewer.pageNumber - 1);
});

// Swipe left / right with one finger turns the page (pens draw instead).
let swipe = null;
$("#stage").addEventListener("pointerdown", (e) => {
  swipe = e.pointerType === "touch" && !annotator.active ? { x: e.clientX, y: e.clientY, id: e.pointerId } : null;
});
$("#stage").addEventListener("pointerup", (e) => {
  if (!swipe || swipe.id !== e.pointerId || viewer.pinching || viewer.zoom > 1.01) return;
  const dx = e.clientX - swipe.x;
  if (Math.abs(dx) > 80 && Math.abs(dx) > 2 * Math.abs(e.clientY - swipe.y)) userGoTo(viewer.pageNumber + (dx < 0 ? 1 : -1));
  swipe = null;
});

// ------------------------------------------------------------------ agenda sidebar
function statusLabel(status) {
  return t(`status_${status}`);
}

function renderAgenda() {
  const list = $("#agenda-list");
  const current = store.state.presenter.agenda_item_id;
  const byItem = new Map();
  for (const d of docs.values()) {
    const key = d.item_id ?? 0;
    if (!byItem.has(key)) byItem.set(key, []);
    byItem.get(key).push(d);
  }
  const docButton = (d) => el("li", {}, el("button", {
    type: "button", class: "doc-link", dataset: { docId: d.id },
    onclick: () => {
      if (!canPresent()) setFollow(false, { quiet: true });
      openDocument(d.id).then(() => {
        closeDrawer();
        present(d.id, viewer.pageNumber);
      }, openFailed);
    },
  }, d.title));
  const rows = store.state.agenda.map((item, idx) => el("li", {
    class: `agenda-item status-${item.status}${item.id === current ? " current" : ""}`,
    "aria-current": item.id === current ? "step" : null,
    dataset: { itemId: item.id },
  },
  el("div", { class: "agenda-head" },
    el("span", { class: "num" }, `${idx + 1}.`),
    el("span", { class: "title" }, item.title),
    el("span", { class: `badge ${item.status}` }, statusLabel(item.status))),
  el("ul", { class: "docs" }, (byItem.get(item.id) || []).map(docButton))));
  const loose = byItem.get(0) || [];
  if (loose.length) rows.push(el("li", { class: "agenda-item" }, el("ul", { class: "docs" }, loose.map(docButton))));
  fill(list, rows);
  markCurrentDoc(viewer.docId);
}

function markCurrentDoc(id) {
  for (const b of document.querySelectorAll(".doc-link")) {
    const on = Number(b.dataset.docId) === id;
    b.classList.toggle("current", on);
    if (on) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  }
}

function closeDrawer() {
  $("#agenda").classList.remove("open");
  $("#agenda-toggle").setAttribute("aria-expanded", "false");
}
$("#agenda-toggle").addEventListener("click", () => {
  const open = !$("#agenda").classList.contains("open");
  $("#agenda").classList.toggle("open", open);
  $("#agenda-toggle").setAttribute("aria-expanded", String(open));
});

// ------------------------------------------------------------------ speaking and voting
const speak = new SpeakPanel({ live, store, me, meetingId: boot.meeting.id });
const vote = new VotePanel({ live, store, me, meetingId: boot.meeting.id });
const committee = new CommitteePanel({ live, store, me, meetingId: boot.meeting.id });

store.addEventListener("change", (e) => {
  const { what } = e.detail;
  if (what === "snapshot" || what === "agenda" || what === "presenter") {
    renderAgenda();
    followPresenter();
    annotator.refreshPermissions?.();
  }
  if (what === "snapshot" || what === "speakers") speak.render();
  if (what === "snapshot" || what === "polls") {
    vote.render();
    committee.renderCount();
  }
});
live.addEventListener("event", (e) => annotator.onEvent(e.detail));
live.addEventListener("notice", (e) => {
  store.applyNotice(e.detail);
  annotator.onNotice?.(e.detail);
  vote.onNotice(e.detail);
});

renderAgenda();
setFollow(true, { quiet: true });
committee.refresh();
if (me.can_run) $("#follow").textContent = t("show_on_screens");

// ------------------------------------------------------------------ offline
// The room's shell (page, scripts, styles, PDF.js and its worker) and today's documents stay on the
// tablet. The first visit loaded its scripts before the worker controlled the page, so they are
// listed from the page's own resource timings rather than waiting for a second visit.
// The ballot crypto is loaded now, not at the first secret vote: so it is in the offline cache too.
const ballotCrypto = import("../core/elgamal.js").catch((err) => console.warn("ballot crypto not loaded", err));
registerServiceWorker(boot.urls.sw).then(async () => {
  await ballotCrypto;
  const shell = performance.getEntriesByType("resource").map((r) => new URL(r.name))
    .filter((u) => u.origin === location.origin && /^\/(static|vendor)\//.test(u.pathname))
    .map((u) => u.pathname + u.search);
  precache([...new Set([location.pathname, boot.urls.pdf, boot.urls.pdf_worker, ...shell,
    ...[...docs.keys()].map(docUrl)])]);
  // Web Push: subscribe quietly where the user already allowed notifications (no prompt on load).
  enablePush({ ask: false }).catch((err) => console.warn("push not enabled", err));
});
window.room = { store, live, viewer, annotator, vote, committee }; // for the browser tests and the curious
