// The vote panel: appears when a poll opens, large option buttons, a confirm
// step, then "your vote is recorded". A secret poll's ballot is encrypted on this
// tablet (static/js/core/elgamal.js, docs/secret-ballot.md): "Encrypting…", then
// "Recorded — tracking code XXXX-XXXX-XXXX" with a link to the poll's bulletin board.
import { api } from "../core/api.js";
import { $, el, fill, t } from "../core/dom.js";
import { formatNumber } from "../core/format.js";
import { PROTOCOL } from "../core/protocol.js";

const ROLE_LABEL = { for: "option_for", against: "option_against", abstain: "option_abstain" };
// The crypto module is loaded on first use: a page without secret polls never needs it, and a
// failure to load it must not break the rest of the room.
const elgamal = () => import("../core/elgamal.js");

export class VotePanel {
  constructor({ live, store, me, meetingId }) {
    this.live = live;
    this.store = store;
    this.me = me;
    this.meetingId = meetingId;
    this.panel = $("#vote-panel");
    this.voted = new Set(); // polls this device has a confirmed ballot for
    this.dismissed = new Set();
    this.choice = null;
    this.sending = new Set(); // polls whose encrypted ballot is on its way
    $("#vote-back").addEventListener("click", () => this.showOptions());
    $("#vote-yes").addEventListener("click", () => this.cast());
    $("#vote-hide").addEventListener("click", () => {
      if (this.poll) this.dismissed.add(this.poll.id);
      this.panel.hidden = true;
    });
    // Back online: a secret ballot encrypted while offline goes out as it is, never encrypted again.
    live.addEventListener("state", (e) => {
      if (e.detail.state === "online") this.resendPending();
    });
  }

  openPoll() {
    return this.store.state.polls.find((p) => p.status === "open") || null;
  }

  label(option) {
    return option.role && ROLE_LABEL[option.role] ? t(ROLE_LABEL[option.role]) : option.label;
  }

  // ---------------------------------------------------------------- the encrypted ballot kept on the tablet
  // One entry per poll and voter: {ballot, code} until the server acknowledged it, then {code, recorded}.
  // It never holds the choice in clear. Logging out wipes it (core/offline.js, "meetings." keys).
  receiptKey(pollId) {
    return `meetings.ballot.${pollId}.${this.me.id}`;
  }

  receipt(pollId) {
    try {
      return JSON.parse(localStorage.getItem(this.receiptKey(pollId)) || "null");
    } catch {
      return null;
    }
  }

  keepReceipt(pollId, value) {
    if (value === null) localStorage.removeItem(this.receiptKey(pollId));
    else localStorage.setItem(this.receiptKey(pollId), JSON.stringify(value));
  }

  render() {
    const poll = this.openPoll();
    if (poll && poll.my_ballot?.voted) {
      this.voted.add(poll.id);
      const kept = this.receipt(poll.id);
      if (kept?.ballot) this.keepReceipt(poll.id, { code: kept.code, recorded: true });
    }
    if (!poll || !this.me.can_vote) {
      if (this.poll && !poll) {
        this.panel.hidden = true;
        this.poll = null;
      }
      this.renderResults();
      return;
    }
    const fresh = !this.poll || this.poll.id !== poll.id;
    this.poll = poll;
    if (this.dismissed.has(poll.id)) return;
    this.panel.hidden = false;
    this.panel.dataset.pollId = String(poll.id);
    $("#vote-question").textContent = poll.title;
    $("#vote-note").textContent = poll.secret ? t("vote_secret_encrypted") : "";
    const kept = poll.secret ? this.receipt(poll.id) : null;
    if (this.voted.has(poll.id)) this.showDone(kept?.code);
    else if (kept?.ballot) {
      this.showPending(kept.code);
      this.resendPending();
    } else if (fresh) this.showOptions();
    this.renderResults();
  }

  showOptions() {
    this.choice = null;
    $("#vote-confirm").hidden = true;
    $("#vote-done").textContent = "";
    $("#vote-board").hidden = true;
    $("#vote-hide").hidden = true;
    const buttons = (this.poll.options || []).map((o) => el("button", {
      type: "button", class: `big vote-option ${o.role || ""}`, dataset: { optionId: o.id },
      onclick: () => this.confirm(o),
    }, this.label(o)));
    fill($("#vote-options"), buttons);
    $("#vote-options").hidden = false;
    buttons[0]?.focus();
  }

  confirm(option) {
    this.choice = option;
    $("#vote-options").hidden = true;
    $("#vote-confirm-text").textContent = t("vote_confirm", { choice: this.label(option) });
    $("#vote-confirm").hidden = false;
    $("#vote-yes").focus();
  }

  async cast() {
    const poll = this.poll;
    $("#vote-yes").disabled = true;
    try {
      if (poll.secret) await this.castEncrypted(poll);
      else await this.castNamed(poll);
    } finally {
      $("#vote-yes").disabled = false;
    }
  }

  async castNamed(poll) {
    const ack = await this.live.request(PROTOCOL.vote, PROTOCOL.votePayload(poll, this.choice));
    if (ack && (ack.ok || ack.error?.code === "already_voted")) {
      this.voted.add(poll.id);
      this.showDone();
    } else this.failed(ack ? ack.error.message : t("offline"));
  }

  /** Encrypt the choice on this tablet, keep the ballot, then send it (now or on reconnect). */
  async castEncrypted(poll) {
    const position = (poll.options || []).findIndex((o) => o.id === this.choice.id);
    $("#vote-confirm").hidden = true;
    $("#vote-done").textContent = t("vote_encrypting");
    $("#vote-done").dataset.state = "encrypting";
    let kept;
    try {
      const eg = await elgamal();
      const params = await this.encryptionParams(poll);
      // Let the browser paint "Encrypting…" before the proofs take the main thread.
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const ballot = await eg.encryptBallot(params.publicKey, params.boardId, poll.options.length, [position],
        poll.min_choices ?? 1, poll.max_choices ?? 1);
      kept = { ballot, code: eg.trackingCode(await eg.ballotHash(params.boardId, ballot)) };
    } catch (err) {
      this.failed(err.message || String(err));
      return;
    }
    this.choice = null;
    this.keepReceipt(poll.id, kept);
    await this.sendPending(poll.id);
  }

  /** The poll's key and board id: in its description, else from its bulletin board. */
  async encryptionParams(poll) {
    if (poll.public_key && poll.board_id) return { publicKey: poll.public_key, boardId: poll.board_id };
    const board = await api("GET", `/polls/${poll.id}/board`);
    return { publicKey: board.committee?.public_key, boardId: board.board_id };
  }

  resendPending() {
    const poll = this.openPoll();
    if (poll?.secret && this.receipt(poll.id)?.ballot) this.sendPending(poll.id);
  }

  /** Send the kept ballot of ``pollId``; the same bytes however often the connection drops. */
  async sendPending(pollId) {
    const kept = this.receipt(pollId);
    if (!kept?.ballot || this.sending.has(pollId)) return;
    this.sending.add(pollId);
    try {
      const ack = await this.live.request(PROTOCOL.vote, { poll_id: pollId, ballot: kept.ballot });
      if (ack === null) {
        if (this.poll?.id === pollId) this.showPending(kept.code);
        return;
      }
      const code = ack.error?.code;
      if (ack.ok || code === "duplicate_ballot") {
        // duplicate_ballot: this very ballot is stored already (an earlier send whose ack was lost).
        this.recorded(pollId, kept.code, ack.tracking_code);
      } else if (code === "already_voted") {
        // Our earlier send, or this voter's other device: the board says which.
        const ours = await this.onBoard(pollId, kept.code);
        this.recorded(pollId, ours ? kept.code : null);
      } else {
        this.keepReceipt(pollId, null); // refused (closed, invalid): resending would be refused again
        if (this.poll?.id === pollId) this.failed(ack.error?.message || code);
      }
    } finally {
      this.sending.delete(pollId);
    }
  }

  async onBoard(pollId, code) {
    try {
      const board = await api("GET", `/polls/${pollId}/board`);
      return (board.ballots || []).some((b) => b.tracking_code === code);
    } catch {
      return false;
    }
  }

  recorded(pollId, code, serverCode) {
    this.voted.add(pollId);
    this.keepReceipt(pollId, code ? { code, recorded: true } : null);
    if (this.poll?.id !== pollId) return;
    this.showDone(code);
    if (serverCode && code && serverCode !== code) {
      // The server's hash of what it stored is not what this tablet made: say so, loudly.
      $("#vote-warning").textContent = t("vote_code_mismatch", { server: serverCode, local: code });
      $("#vote-warning").hidden = false;
    }
  }

  failed(message) {
    delete $("#vote-done").dataset.state;
    this.showOptions();
    $("#vote-done").textContent = t("vote_failed", { message });
  }

  showPending(code) {
    $("#vote-options").hidden = true;
    $("#vote-confirm").hidden = true;
    $("#vote-done").dataset.state = "queued";
    $("#vote-done").textContent = t("vote_queued_secret", { code });
    $("#vote-hide").hidden = false;
  }

  showDone(code = null) {
    $("#vote-options").hidden = true;
    $("#vote-confirm").hidden = true;
    $("#vote-warning").hidden = true;
    const done = $("#vote-done");
    done.dataset.state = "recorded";
    if (code) {
      // The code in one piece (it must not break at a hyphen), the sentence around it translated.
      const [before, after = ""] = t("vote_recorded_code", { code: "\u0000" }).split("\u0000");
      fill(done, before, el("span", { class: "tracking-code", "data-testid": "tracking-code" }, code), after);
    } else done.textContent = t("vote_recorded");
    const board = $("#vote-board");
    board.hidden = !this.poll?.secret;
    if (this.poll?.secret) {
      const url = new URL(`/polls/${this.poll.id}/board`, location.origin);
      if (code) url.searchParams.set("code", code);
      board.href = url.pathname + url.search + (code ? `#code-${code}` : "");
    }
    $("#vote-hide").hidden = false;
    $("#vote-hide").focus();
  }

  onNotice({ name, data }) {
    if (name === PROTOCOL.ballotNotice && data?.poll_id) {
      this.voted.add(data.poll_id);
      const mine = this.receipt(data.poll_id);
      const code = mine?.code || data.tracking_code || null;
      if (mine?.ballot) this.keepReceipt(data.poll_id, { code: mine.code, recorded: true });
      if (this.poll && this.poll.id === data.poll_id && !this.sending.has(data.poll_id)) this.showDone(code);
    }
  }

  renderResults() {
    const box = $("#poll-results");
    const shown = [...this.store.state.polls].reverse().find((p) => p.status === "published" && p.result);
    // Results appear once published; the projector and the console show them earlier.
    if (!shown) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const outcome = shown.result.outcome;
    fill(box,
      el("h2", {}, shown.title),
      el("p", { class: `outcome ${outcome}` }, outcome === "adopted" ? t("result_adopted") : t("result_rejected")),
      el("ul", { class: "result-list" }, (shown.result.options || []).map((o) => el("li", {},
        `${this.label(o)}: ${formatNumber(o.count)}`))),
      shown.secret ? el("a", { href: `/polls/${shown.id}/board`, class: "board-link" }, t("board_link")) : null);
  }
}
