// The console's counting committee (ban kiểm phiếu): elect it (members, k), follow the key
// ceremony that runs on the members' own tablets, and see whether its key is ready.
// The server never holds a share (docs/secret-ballot.md); this page only shows progress.
import { api } from "../core/api.js";
import { $, el, fill, t, toast } from "../core/dom.js";
import { formatNumber } from "../core/format.js";
import { ct } from "./strings.js";

const ROUNDS = ["invited", "published", "shares_sent", "confirmed"];

/** A member's progress in the ceremony, as the API names it. */
export function memberRound(m) {
  return ROUNDS.includes(m.round) ? m.round : "invited";
}

export function initCommittee({ meetingId, store, live }) {
  const path = `/meetings/${meetingId}/counting-committee`;
  // picked: the ticked user ids (null until there is someone to tick); shown: the committee the form
  // was last set up for, so a new one (elected here or elsewhere) resets it.
  const state = { committee: null, loaded: false, picked: null, shown: undefined };

  async function load() {
    try {
      state.committee = await api("GET", path);
    } catch (err) {
      if (err.status !== 404) toast(t("error", { message: err.message }), "error");
      state.committee = null;
    }
    state.loaded = true;
    render();
  }

  function render() {
    const c = state.committee;
    const status = $("#cc-status");
    status.dataset.status = c ? c.status : "none";
    if (!c || c.status === "replaced") status.textContent = ct("cc_none");
    else if (c.status === "ready") status.textContent = ct("cc_status_ready", { k: c.threshold, n: c.size });
    else if (c.status === "failed") status.textContent = ct("cc_status_failed", { reason: c.failure || "" });
    else status.textContent = ct("cc_status_ceremony", { k: c.threshold, n: c.size });
    fill($("#cc-members"), (c && c.status !== "replaced" ? c.members || [] : []).map((m) => el("li", {
      class: `cc-member ${memberRound(m)}`, dataset: { index: m.index, round: memberRound(m) },
    }, el("span", { class: "title" }, `${formatNumber(m.index)}. ${m.name || m.full_name || ""}`),
    el("span", { class: `badge ${memberRound(m)}` }, ct(`cc_round_${memberRound(m)}`)))));
    const uid = c && c.status !== "replaced" ? c.uid : null;
    if (state.loaded && uid !== state.shown) {
      state.shown = uid;
      state.picked = null;
      // No committee yet, or a failed one: the election form is where the secretariat goes next.
      $("#cc-elect").open = !c || c.status === "failed" || c.status === "replaced";
    }
    renderCandidates();
  }

  /** The meeting's voting participants as check boxes; chair and secretary ticked by default. */
  function renderCandidates() {
    const c = state.committee;
    const people = store.state.attendance.filter((a) => a.role !== "observer");
    if (state.picked === null && people.length) {
      const current = c && c.status !== "replaced" ? (c.members || []).map((m) => m.user_id) : [];
      state.picked = new Set(current.length ? current
        : people.filter((a) => a.role === "chair" || a.role === "secretary").map((a) => a.user_id));
      if (c && c.threshold) $("#cc-threshold").value = String(c.threshold);
    }
    const picked = state.picked || new Set();
    fill($("#cc-candidates"), people.map((a) => el("label", { class: "check" },
      el("input", {
        type: "checkbox", name: "member", value: a.user_id, checked: picked.has(a.user_id),
        onchange: (e) => {
          state.picked = state.picked || new Set();
          if (e.target.checked) state.picked.add(a.user_id);
          else state.picked.delete(a.user_id);
          $("#cc-threshold").max = String(Math.max(2, state.picked.size));
        },
      }),
      `${a.full_name}${a.role ? ` (${t(`role_${a.role}`)})` : ""}`)));
    $("#cc-threshold").max = String(Math.max(2, picked.size));
  }

  $("#cc-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const box = $("#cc-error");
    box.hidden = true;
    const picked = state.picked || new Set();
    const memberIds = store.state.attendance.map((a) => a.user_id).filter((id) => picked.has(id));
    const k = Number($("#cc-threshold").value);
    const problem = memberIds.length < 2 ? ct("cc_pick_two")
      : (!Number.isInteger(k) || k < 2 || k > memberIds.length ? ct("cc_bad_threshold") : null);
    if (problem) {
      box.textContent = problem;
      box.hidden = false;
      return;
    }
    const c = state.committee;
    if (c && c.status !== "failed" && c.status !== "replaced" && !window.confirm(ct("cc_confirm_replace"))) return;
    $("#cc-submit").disabled = true;
    try {
      state.committee = await api("POST", path, { member_ids: memberIds, threshold: k });
      $("#cc-elect").open = false;
      toast(ct("cc_elected"));
      render();
    } catch (err) {
      box.textContent = t("error", { message: err.message });
      box.hidden = false;
    } finally {
      $("#cc-submit").disabled = false;
    }
  });

  live.addEventListener("committee.changed", () => load());
  live.addEventListener("snapshot", () => load());
  store.addEventListener("change", (e) => {
    if (e.detail.what === "snapshot" || e.detail.what === "attendance") renderCandidates();
  });
  render();
  return { load, get committee() { return state.committee; } };
}
