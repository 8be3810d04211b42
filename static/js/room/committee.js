// The counting committee's panel on a member's tablet (docs/secret-ballot.md):
//
// - the key ceremony, step by step: the member chooses a passphrase, the tablet publishes its
//   round 1, then runs round 2 and the confirmation by itself as the other members progress
//   (``committee.changed``); its key share s_j is kept in localStorage, sealed under the
//   passphrase (`committee-share:<cid>:<user id>`), and never leaves the tablet;
// - the count: when a poll of the committee is ``counting``, "enter your passphrase to decrypt
//   your part" → the share is opened, the encrypted tally partially decrypted (with its proof)
//   and posted. A wrong passphrase posts nothing.
//
// The passphrase lives in this page's memory only while the ceremony runs; a reload mid-ceremony
// asks for it again to unseal the tablet's ceremony secrets.
import { api } from "../core/api.js";
import { $, t } from "../core/dom.js";
import { formatNumber } from "../core/format.js";

const elgamal = () => import("../core/elgamal.js");
const ROUNDS = ["invited", "published", "shares_sent", "confirmed"];
const MIN_PASSPHRASE = 8;

const shareKey = (cid, userId) => `committee-share:${cid}:${userId}`;
// The ceremony's own secrets (transport key, polynomial) until the share exists, sealed the same way.
const ceremonyKey = (cid, userId) => `committee-ceremony:${cid}:${userId}`;

function reached(member, round) {
  return ROUNDS.indexOf(member.round) >= ROUNDS.indexOf(round);
}

/** The device's next step from the members' rounds (when the server does not say it). */
function nextStep(c, mine) {
  const all = (round) => c.members.every((m) => reached(m, round));
  if (!reached(mine, "published")) return "round1";
  if (!all("published")) return "wait";
  if (!reached(mine, "shares_sent")) return "round2";
  if (!all("shares_sent")) return "wait";
  return reached(mine, "confirmed") ? "wait" : "confirm";
}

/** The API's per-member lists as the device takes them, {index: message}: round 1's
 * [{index, message}] (inner "message") and the shares' [{from, to, ephemeral, ciphertext}]. */
export function byIndex(items, inner = null) {
  const out = {};
  for (const item of items || []) out[Number(item.index ?? item.from)] = inner ? item[inner] : item;
  return out;
}

/** A poll's count progress {done: [member indices] | number, k} from its view or its last event. */
export function countOf(poll) {
  const done = typeof poll.partials === "number" ? poll.partials : (poll.count?.partials ?? []);
  return { done, k: poll.threshold ?? poll.count?.threshold ?? null };
}

export class CommitteePanel {
  constructor({ live, store, me, meetingId }) {
    this.live = live;
    this.store = store;
    this.me = me;
    this.meetingId = meetingId;
    this.path = `/meetings/${meetingId}/counting-committee`;
    this.committee = null;
    this.device = null; // the ceremony's CommitteeMemberDevice, in memory
    this.passphrase = null; // only while the ceremony runs
    this.posted = new Set(); // poll ids whose partial this tablet has sent
    this.mode = null; // what the form asks: choose | resume | count
    this.running = null;
    this.again = false;
    this.box = $("#committee");
    $("#committee-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    live.addEventListener("committee.changed", (e) => this.onChanged(e.detail?.data || {}));
    live.addEventListener("snapshot", () => this.refresh());
    live.addEventListener("state", (e) => {
      if (e.detail.state === "online" && this.retryIn) this.refresh();
    });
  }

  get myIndex() {
    return this.committee?.me?.index ?? this.committee?.members?.find((m) => m.user_id === this.me.id)?.index ?? null;
  }

  /** A change of the committee: members follow every step; others only look when a new one appears. */
  onChanged(data) {
    const id = data.uid ?? data.committee_uid ?? data.committee_id ?? data.id;
    const known = this.committee ? (this.committee.uid ?? this.committee.id) : null;
    if (this.myIndex !== null || id === undefined || id !== known || !this.committee) this.refresh();
  }

  /** Fetch the committee, then take whatever step is due; one run at a time. */
  refresh() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.load();
          await this.step();
          this.retryIn = 0;
        } catch (err) {
          this.error(t("committee_error", { message: err.message || String(err) }));
          this.retryLater();
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** A step that failed (a dropped network, a busy server) is tried again, later and later. */
  retryLater() {
    clearTimeout(this.retryTimer);
    this.retryIn = Math.min(60_000, (this.retryIn || 2_500) * 2);
    this.retryTimer = setTimeout(() => this.refresh(), this.retryIn);
  }

  async load() {
    try {
      this.committee = await api("GET", this.path);
    } catch (err) {
      if (err.status !== 404) throw err;
      this.committee = null;
    }
  }

  // ---------------------------------------------------------------- what to show and do
  async step() {
    const c = this.committee;
    if (!c || c.status === "replaced" || this.myIndex === null) {
      this.box.hidden = true;
      return;
    }
    this.box.hidden = false;
    this.box.dataset.status = c.status;
    if (c.status === "failed") {
      this.forgetCeremony(c);
      this.say(t("committee_failed", { reason: c.failure || "" }));
      this.ask(null);
      return;
    }
    if (c.status === "ready") {
      this.forgetCeremony(c);
      this.renderCount();
      return;
    }
    await this.ceremony(c);
  }

  /** One step of the key ceremony: what the server says this member's device must do next. */
  async ceremony(c) {
    const index = this.myIndex;
    const mine = c.members.find((m) => m.index === index);
    const n = c.size ?? c.members.length;
    const count = (round) => c.members.filter((m) => reached(m, round)).length;
    const next = c.me?.next ?? nextStep(c, mine);
    if (next === "round1") {
      if (!this.passphrase) {
        this.say(t("committee_member", { index: formatNumber(index), k: formatNumber(c.threshold), n: formatNumber(n) }));
        this.ask("choose", t("committee_choose"));
        return;
      }
      this.ask(null);
      this.say(t("committee_round1"));
      const eg = await elgamal();
      this.device = new eg.CommitteeMemberDevice(c.uid, index, c.threshold, n);
      const message = await this.device.round1();
      await this.keepCeremony(c);
      await api("POST", `${this.path}/round1`, message);
      this.again = true;
      return;
    }
    if (next !== "round2" && next !== "confirm") {
      // wait (for the others) — say how far they are, by the step this member has done.
      this.ask(null);
      const step = mine.round === "confirmed" ? "confirmed" : mine.round === "shares_sent" ? "shares_sent" : "published";
      const label = { published: "committee_wait_round1", shares_sent: "committee_wait_round2", confirmed: "committee_wait_confirm" };
      this.say(t(label[step], { done: formatNumber(count(step)), n: formatNumber(n) }));
      return;
    }
    if (!this.device && !(await this.restoreCeremony(c))) return; // asked for the passphrase, or not this tablet
    this.ask(null);
    const round1 = byIndex((await api("GET", `${this.path}/round1`)).round1, "message");
    if (next === "round2") {
      this.say(t("committee_round2"));
      const shares = await this.device.round2(round1);
      await api("POST", `${this.path}/round2`, { shares });
      this.again = true;
      return;
    }
    // confirm: check what came to this tablet (Feldman), keep the share, publish K_j.
    this.say(t("committee_confirm"));
    const toMe = byIndex((await api("GET", `${this.path}/shares`)).shares);
    let key;
    try {
      key = await this.device.confirm(round1, toMe);
    } catch (err) {
      // A share that fails its Feldman check: complain, naming its sender; the ceremony fails.
      const against = err.against ?? err.complaintAgainst;
      if (against === undefined || against === null) throw err;
      await api("POST", `${this.path}/confirm`, { complaint_against: against });
      this.again = true;
      return;
    }
    const eg = await elgamal();
    // The sealed share is on the tablet before the server hears of it: a crash in between loses nothing.
    const sealed = await eg.sealShare(this.device.keyShare ?? this.device.key_share, this.passphrase);
    localStorage.setItem(shareKey(c.uid, this.me.id), JSON.stringify({
      committee: c.uid, index, threshold: c.threshold, size: n, verification_key: key, sealed,
    }));
    await api("POST", `${this.path}/confirm`, { verification_key: key });
    this.again = true;
  }

  /** Seal the device's ceremony secrets, when the crypto module can export them. */
  async keepCeremony(c) {
    if (typeof this.device.exportState !== "function") return;
    const eg = await elgamal();
    const state = this.device.exportState();
    const sealed = await eg.sealShare(state, this.passphrase);
    localStorage.setItem(ceremonyKey(c.uid, this.me.id), JSON.stringify({ index: this.myIndex, sealed }));
  }

  /** After a reload: the ceremony's secrets back from this tablet, with the passphrase. */
  async restoreCeremony(c) {
    const kept = this.kept(ceremonyKey(c.uid, this.me.id));
    if (!kept) {
      this.say(t("committee_elsewhere"));
      this.ask(null);
      return false;
    }
    if (!this.passphrase) {
      this.say(t("committee_member", { index: formatNumber(this.myIndex), k: formatNumber(c.threshold),
        n: formatNumber(c.size ?? c.members.length) }));
      this.ask("resume", t("committee_resume"));
      return false;
    }
    const eg = await elgamal();
    let state;
    try {
      state = await eg.openShare(kept.sealed, this.passphrase);
    } catch {
      this.passphrase = null;
      this.ask("resume", t("committee_resume"));
      this.error(t("committee_wrong_passphrase"));
      return false;
    }
    this.device = eg.CommitteeMemberDevice.importState(state);
    return true;
  }

  forgetCeremony(c) {
    this.device = null;
    this.passphrase = null;
    localStorage.removeItem(ceremonyKey(c.uid, this.me.id));
  }

  kept(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "null");
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- the count
  /** The committee's polls waiting for this member's partial decryption. */
  pendingPolls() {
    const c = this.committee;
    return this.store.state.polls.filter((p) => p.status === "counting" && !this.posted.has(p.id)
      && (p.committee_id === undefined || p.committee_id === null || c.id === undefined || p.committee_id === c.id)
      && !(Array.isArray(countOf(p).done) && countOf(p).done.includes(this.myIndex)));
  }

  /** Called on every change of the polls: the prompt to count, or where the count stands. */
  renderCount() {
    const c = this.committee;
    if (!c || c.status !== "ready" || this.myIndex === null) return;
    if (this.mode === "count" && this.counting) return; // decrypting now: keep the form as it is
    const waiting = this.pendingPolls();
    const share = this.kept(shareKey(c.uid, this.me.id));
    const counting = this.store.state.polls.filter((p) => p.status === "counting");
    if (!waiting.length) {
      this.ask(null);
      const last = counting.find((p) => this.posted.has(p.id));
      const done = this.store.state.polls.find((p) => this.posted.has(p.id) && p.status !== "counting");
      if (done && !last) this.say(t("committee_counted"));
      else if (last) {
        const { done, k } = countOf(last);
        this.say(t("committee_posted", { done: formatNumber(Array.isArray(done) ? done.length : done), k: formatNumber(k ?? c.threshold) }));
      } else this.say(share ? t("committee_ready") : t("committee_no_share", { k: formatNumber(c.threshold) }));
      return;
    }
    if (!share) {
      // Not this tablet: the member's share is on the device that ran their ceremony, or lost.
      this.ask(null);
      this.say(t("committee_no_share", { k: formatNumber(c.threshold) }));
      this.box.dataset.share = "missing";
      return;
    }
    this.sayWaiting();
    this.ask("count", t("committee_count_prompt"));
  }

  /** Which polls wait for this member's part. */
  sayWaiting() {
    this.say(this.pendingPolls().map((p) => t("committee_count_poll", { title: p.title })).join(" · "));
  }

  async count(passphrase) {
    const c = this.committee;
    const share = this.kept(shareKey(c.uid, this.me.id));
    if (!share) {
      this.renderCount();
      return;
    }
    const eg = await elgamal();
    this.counting = true;
    try {
      this.say(t("committee_decrypting"));
      let secret;
      try {
        secret = await eg.openShare(share.sealed, passphrase);
      } catch {
        this.sayWaiting();
        this.error(t("committee_wrong_passphrase"));
        $("#committee-pass").select();
        return;
      }
      const device = eg.CommitteeMemberDevice.fromKeyShare(c.uid, share.index, share.threshold, share.size, secret);
      for (const poll of this.pendingPolls()) {
        const board = await api("GET", `/polls/${poll.id}/board`);
        if (board.poll?.status !== "counting" || !board.encrypted_tally) continue; // counted by the others meanwhile
        const shares = await device.partialDecrypt(board.board_id, board.encrypted_tally);
        const ack = await api("POST", `/polls/${poll.id}/partial-decryption`, { shares });
        this.posted.add(poll.id);
        if (ack && ack.partials !== undefined) {
          // What the ack says may run ahead of the socket's poll.count_progress: show it now.
          Object.assign(poll, { partials: ack.partials, threshold: ack.threshold });
        }
      }
    } finally {
      this.counting = false;
    }
    $("#committee-pass").value = "";
    this.renderCount();
  }

  // ---------------------------------------------------------------- the form
  ask(mode, prompt = "") {
    this.mode = mode;
    const form = $("#committee-form");
    this.box.classList.toggle("asking", Boolean(mode));
    if (!mode) {
      form.hidden = true;
      return;
    }
    const wasHidden = form.hidden || form.dataset.mode !== mode;
    form.dataset.mode = mode;
    form.hidden = false;
    $("#committee-prompt").textContent = prompt;
    $("#committee-again-box").hidden = mode !== "choose";
    $("#committee-help").hidden = mode !== "choose"; // how to choose one: not when it is asked for
    $("#committee-submit").textContent = t(mode === "choose" ? "committee_start"
      : mode === "resume" ? "committee_continue" : "committee_decrypt");
    $("#committee-pass").autocomplete = mode === "choose" ? "new-password" : "current-password";
    if (wasHidden) {
      $("#committee-error").hidden = true;
      $("#committee-pass").value = "";
      $("#committee-again").value = "";
      $("#committee-pass").focus();
    }
  }

  async submit() {
    const pass = $("#committee-pass").value;
    $("#committee-error").hidden = true;
    if (this.mode === "choose") {
      if (pass.length < MIN_PASSPHRASE) return this.error(t("committee_too_short"));
      if (pass !== $("#committee-again").value) return this.error(t("committee_mismatch"));
    }
    if (!pass) return this.error(t("committee_wrong_passphrase"));
    $("#committee-submit").disabled = true;
    try {
      if (this.mode === "count") await this.count(pass);
      else {
        this.passphrase = pass;
        $("#committee-pass").value = "";
        $("#committee-again").value = "";
        await this.refresh();
      }
    } catch (err) {
      this.error(t("committee_error", { message: err.message || String(err) }));
    } finally {
      $("#committee-submit").disabled = false;
    }
    return undefined;
  }

  say(text) {
    $("#committee-status").textContent = text;
  }

  error(text) {
    $("#committee-error").textContent = text;
    $("#committee-error").hidden = false;
    if ($("#committee-form").hidden) this.say(text);
  }
}
