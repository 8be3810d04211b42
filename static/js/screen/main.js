// The hall's projector: current item, speaker with remaining time, vote progress and
// results, quorum. Read-only: it only listens.
import { $, fill, readJSON, t, el } from "../core/dom.js";
import { formatClock, formatNumber } from "../core/format.js";
import { bindConnectionIndicator, LiveClient } from "../core/live.js";
import { resultChart } from "../core/results.js";
import { MeetingStore } from "../core/store.js";

const boot = readJSON("boot");
const store = new MeetingStore({ meeting: boot.meeting, agenda: boot.items });
const live = new LiveClient(boot.meeting.id);
bindConnectionIndicator(live, $("#conn"), {
  online: t("online"), offline: t("offline"), syncing: t("syncing"), connecting: t("connecting"),
});
live.addEventListener("snapshot", (e) => store.loadSnapshot(e.detail));
live.addEventListener("event", (e) => store.apply(e.detail));
live.addEventListener("notice", (e) => store.applyNotice(e.detail));

function render() {
  const s = store.state;
  const item = s.agenda.find((i) => i.id === s.presenter.agenda_item_id) || s.agenda.find((i) => i.status === "open");
  $("#screen-item").textContent = item ? item.title : "—";
  $("#screen-speaker").textContent = s.speakers.current ? s.speakers.current.full_name : t("speak_none");
  const q = s.quorum;
  $("#screen-quorum").textContent = q ? (q.met
    ? t("quorum_met", { present: formatNumber(q.present), members: formatNumber(q.members) })
    : t("quorum_not_met", { present: formatNumber(q.present), members: formatNumber(q.members),
      needed: formatNumber(q.required) })) : "—";
  $("#screen-quorum").dataset.met = q ? String(q.met) : "";
  const polls = s.polls.filter((p) => p.status !== "annulled" && p.status !== "draft");
  const poll = polls.find((p) => p.status === "open") || polls[polls.length - 1];
  const box = $("#screen-poll");
  if (!poll) fill(box, el("p", { class: "muted" }, t("no_vote")));
  else if (poll.status === "open") {
    fill(box, el("p", { class: "screen-mid" }, poll.title),
      el("p", { class: "screen-big", "data-testid": "poll-progress" },
        poll.voted !== undefined ? t("voted_of", { voted: formatNumber(poll.voted), entitled: formatNumber(poll.entitled) })
          : t("poll_status_open")));
  } else if (poll.status === "counting") {
    // A secret poll closed to ballots: the counting committee's tablets are decrypting the tally.
    fill(box, el("p", { class: "screen-mid" }, poll.title),
      el("p", { class: "screen-big counting", "data-testid": "poll-counting" }, t("counting")),
      countLine(poll));
  } else if (poll.result && (poll.status === "published" || boot.me.can_run)) {
    fill(box, resultChart(poll));
  } else fill(box, el("p", { class: "screen-mid" }, poll.title), el("p", {}, t("vote_closed")));
  tick();
}

/** "x of k committee parts received": from the poll.count_progress event, else the poll's view. */
function countLine(poll) {
  const done = typeof poll.partials === "number" ? poll.partials : poll.count?.partials?.length;
  const k = poll.threshold ?? poll.count?.threshold;
  if (done === undefined || !k) return null;
  return el("p", { class: "screen-mid", "data-testid": "count-progress" },
    t("count_progress", { done: formatNumber(done), k: formatNumber(k) }));
}

function tick() {
  const cur = store.state.speakers.current;
  const clock = $("#screen-clock");
  if (!cur || !cur.limit_seconds || !cur.started_at) {
    clock.textContent = "";
    return;
  }
  const left = cur.limit_seconds - (Date.now() - Date.parse(cur.started_at)) / 1000;
  clock.textContent = formatClock(left);
  clock.classList.toggle("over", left < 0);
}

store.addEventListener("change", render);
setInterval(tick, 1000);
render();
