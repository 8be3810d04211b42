// The secretariat's live console: roll call with quorum, current item / document / page,
// speaker queue with timer, polls (create, open, close, publish, live voted/entitled),
// conclusions per item, minutes draft and signatures.
import { api } from "../core/api.js";
import { $, el, fill, readJSON, t, toast } from "../core/dom.js";
import { formatClock, formatNumber } from "../core/format.js";
import { bindConnectionIndicator, LiveClient } from "../core/live.js";
import { PROTOCOL } from "../core/protocol.js";
import { optionLabel, resultChart } from "../core/results.js";
import { MeetingStore } from "../core/store.js";
import { initCommittee } from "./committee.js";
import { initMinutes } from "./minutes.js";

const boot = readJSON("boot");
const meetingId = boot.meeting.id;
const store = new MeetingStore({ meeting: boot.meeting, agenda: boot.items });
const live = new LiveClient(meetingId);
const docs = boot.documents.filter((d) => d.published);
bindConnectionIndicator(live, $("#conn"), {
  online: t("online"), offline: t("offline"), syncing: t("syncing"), connecting: t("connecting"),
});
live.addEventListener("snapshot", (e) => store.loadSnapshot(e.detail));
live.addEventListener("event", (e) => store.apply(e.detail));
live.addEventListener("notice", (e) => store.applyNotice(e.detail));

/** Send a live command; show the server's refusal, if any. */
async function command(name, payload) {
  const ack = await live.request(name, { meeting_id: meetingId, ...payload });
  if (ack === null) toast(t("offline"), "error");
  else if (!ack.ok) toast(t("error", { message: ack.error.message }), "error");
  return ack;
}

// ------------------------------------------------------------------ roll call
const STATUSES = ["present", "absent", "excused", "remote"];
function renderRollCall() {
  const q = store.state.quorum;
  $("#quorum").textContent = q ? (q.met
    ? t("quorum_met", { present: formatNumber(q.present), members: formatNumber(q.members) })
    : t("quorum_not_met", { present: formatNumber(q.present), members: formatNumber(q.members),
      needed: formatNumber(q.required) })) : "";
  $("#quorum").className = `quorum ${q?.met ? "met" : "not-met"}`;
  fill($("#rollcall"), store.state.attendance.map((a) => el("tr", { dataset: { userId: a.user_id } },
    el("th", { scope: "row" }, a.full_name),
    el("td", {}, a.role ? t(`role_${a.role}`) : ""),
    el("td", {}, el("div", { class: "seg", role: "group", "aria-label": a.full_name }, STATUSES.map((s) => el("button", {
      type: "button", class: "secondary", "aria-pressed": String(a.status === s), dataset: { status: s },
      onclick: async () => {
        let reason = null;
        if (s === "excused") reason = window.prompt(t("excused"));
        if (s === "excused" && !reason) return;
        command(PROTOCOL.attendance, { user_id: a.user_id, status: s, reason });
      },
    }, t(s))))))));
}

// ------------------------------------------------------------------ agenda, documents, page
function renderAgenda() {
  const p = store.state.presenter;
  fill($("#console-agenda"), store.state.agenda.map((item) => el("li", {
    class: `status-${item.status}${item.id === p.agenda_item_id ? " current" : ""}`, dataset: { itemId: item.id },
  },
  el("div", { class: "row" },
    el("span", { class: "title" }, item.title),
    el("span", { class: `badge ${item.status}` }, t(`status_${item.status}`)),
    item.status === "open"
      ? el("button", { type: "button", class: "secondary", onclick: () => command(PROTOCOL.itemClose, { agenda_item_id: item.id }) }, t("close_item"))
      : el("button", { type: "button", onclick: () => command(PROTOCOL.itemOpen, { agenda_item_id: item.id }) }, t("open_item"))),
  el("ul", { class: "docs" }, docs.filter((d) => d.item_id === item.id).map((d) => el("li", {},
    el("button", {
      type: "button", class: d.id === p.document_id ? "" : "secondary", dataset: { showDoc: d.id },
      "aria-pressed": String(d.id === p.document_id),
      onclick: () => command(PROTOCOL.presenter, { document_id: d.id, page: 1 }),
    }, `${t("show_on_screens")}: ${d.title}`)))))));
  const doc = docs.find((d) => d.id === p.document_id);
  $("#presenter-doc").textContent = doc ? doc.title : t("no_document");
  $("#p-page").textContent = doc ? `${p.page} / ${doc.pages}` : "—";
  $("#p-prev").disabled = !doc || p.page <= 1;
  $("#p-next").disabled = !doc || p.page >= doc.pages;
}
$("#p-prev").addEventListener("click", () => command(PROTOCOL.presenter, { page: store.state.presenter.page - 1 }));
$("#p-next").addEventListener("click", () => command(PROTOCOL.presenter, { page: store.state.presenter.page + 1 }));

// ------------------------------------------------------------------ speakers
function renderSpeakers() {
  const { current, waiting } = store.state.speakers;
  $("#c-speaker").textContent = current ? t("speaking", { name: current.full_name }) : t("speak_none");
  $("#c-end").hidden = !current;
  const limit = () => Math.max(10, Math.round(Number($("#c-limit").value || 3) * 60));
  const move = (idx, delta) => {
    const order = waiting.map((r) => r.id);
    const [id] = order.splice(idx, 1);
    order.splice(idx + delta, 0, id);
    command(PROTOCOL.speakReorder, { order });
  };
  fill($("#c-queue"), waiting.length ? waiting.map((r, idx) => el("li", { dataset: { requestId: r.id } },
    el("span", { class: "title" }, r.full_name), el("span", { class: "muted" }, r.kind === "speech" ? "" : r.kind),
    el("button", { type: "button", onclick: () => command(PROTOCOL.speakCall, { request_id: r.id, limit_seconds: limit() }) }, t("give_floor")),
    el("button", { type: "button", class: "secondary", "aria-label": `${t("move_up")}: ${r.full_name}`, disabled: idx === 0, onclick: () => move(idx, -1) }, "↑"),
    el("button", { type: "button", class: "secondary", "aria-label": `${t("move_down")}: ${r.full_name}`, disabled: idx === waiting.length - 1, onclick: () => move(idx, 1) }, "↓"),
    el("button", { type: "button", class: "secondary", onclick: () => command(PROTOCOL.speakSkip, { request_id: r.id }) }, t("skip"))))
    : [el("li", { class: "muted" }, t("queue_empty"))]);
  tick();
}
$("#c-end").addEventListener("click", () => command(PROTOCOL.speakEnd, {}));
function tick() {
  const cur = store.state.speakers.current;
  const left = cur && cur.limit_seconds && cur.started_at
    ? cur.limit_seconds - (Date.now() - Date.parse(cur.started_at)) / 1000 : null;
  $("#c-clock").textContent = left === null ? "" : formatClock(left);
  $("#c-clock").classList.toggle("over", left !== null && left < 0);
}
setInterval(tick, 1000);

// ------------------------------------------------------------------ polls
$("#poll-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const box = $("#poll-error");
  box.hidden = true;
  try {
    await api("POST", `/meetings/${meetingId}/polls`, {
      title: $("#poll-title").value.trim(), secret: $("#poll-secret").checked,
      majority_base: $("#poll-base").value, agenda_item_id: store.state.presenter.agenda_item_id || null,
    });
    $("#poll-title").value = "";
    await loadPolls();
  } catch (err) {
    box.textContent = t("error", { message: err.message });
    box.hidden = false;
  }
});

async function loadPolls() {
  try {
    const polls = await api("GET", `/meetings/${meetingId}/polls`);
    store.state.polls = Array.isArray(polls) ? polls : polls.polls || [];
    store.changed("polls");
  } catch (err) {
    toast(t("error", { message: err.message }), "error");
  }
}

async function pollAction(poll, action) {
  try {
    const view = await api("POST", `/polls/${poll.id}/${action}`);
    const i = store.state.polls.findIndex((p) => p.id === view.id);
    // A secret poll answers "counting" while the committee decrypts its tally; the socket's poll.closed and
    // poll.result may already have arrived, and a late answer must not take the poll back.
    const later = { counting: ["closed", "published"], closed: ["published"] };
    const current = i >= 0 ? store.state.polls[i] : null;
    if (current && (later[view.status] || []).includes(current.status)) return;
    if (i >= 0) store.state.polls[i] = { ...current, ...view };
    store.changed("polls");
  } catch (err) {
    toast(t("error", { message: err.message }), "error");
  }
}

function renderPolls() {
  fill($("#polls"), [...store.state.polls].reverse().map((p) => el("li", { class: `poll ${p.status}`, dataset: { pollId: p.id } },
    el("div", { class: "row" },
      el("strong", { class: "title" }, p.title),
      el("span", { class: `badge ${p.status}` }, t(`poll_status_${p.status}`) || p.status),
      p.status === "draft" ? el("button", { type: "button", dataset: { act: "open" }, onclick: () => pollAction(p, "open") }, t("poll_open")) : null,
      p.status === "open" ? el("button", { type: "button", dataset: { act: "close" }, onclick: () => pollAction(p, "close") }, t("poll_close")) : null,
      p.status === "closed" ? el("button", { type: "button", dataset: { act: "publish" }, onclick: () => pollAction(p, "publish") }, t("poll_publish")) : null),
    p.status === "open" && p.voted !== undefined
      ? el("p", { class: "progress", "data-testid": "poll-progress" }, t("voted_of", { voted: formatNumber(p.voted), entitled: formatNumber(p.entitled) }))
      : null,
    p.status === "counting" ? countProgress(p) : null,
    p.result ? resultChart(p) : null,
    p.secret && p.status !== "draft"
      ? el("a", { class: "board-link", href: `/polls/${p.id}/board`, target: "_blank", rel: "noopener" }, t("board_link"))
      : null,
    p.status === "draft" ? el("p", { class: "muted" }, (p.options || []).map(optionLabel).join(" · ")) : null)));
}

/** A counting secret poll: how many of the k committee parts have come in (event or view). */
function countProgress(p) {
  const done = typeof p.partials === "number" ? p.partials : (p.count?.partials || []).length;
  const k = p.threshold ?? p.count?.threshold;
  return el("p", { class: "progress", "data-testid": "count-progress" },
    k ? t("count_progress", { done: formatNumber(done), k: formatNumber(k) }) : t("poll_status_counting"));
}

// ------------------------------------------------------------------ wiring
store.addEventListener("change", (e) => {
  const { what } = e.detail;
  if (what === "snapshot" || what === "attendance") renderRollCall();
  if (what === "snapshot" || what === "agenda" || what === "presenter") renderAgenda();
  if (what === "snapshot" || what === "speakers") renderSpeakers();
  if (what === "snapshot" || what === "polls") renderPolls();
});
live.addEventListener("snapshot", () => loadPolls());
renderAgenda();
renderSpeakers();
initMinutes({ meetingId, store, live, me: boot.me });
const committee = initCommittee({ meetingId, store, live });
window.consoleApp = { store, live, committee };
