// The vote panel: appears when a poll opens, large option buttons, a confirm
// step, then "your vote is recorded". Secret polls say so.
import { $, el, fill, t } from "../core/dom.js";
import { formatNumber } from "../core/format.js";
import { PROTOCOL } from "../core/protocol.js";

const ROLE_LABEL = { for: "option_for", against: "option_against", abstain: "option_abstain" };

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
    $("#vote-back").addEventListener("click", () => this.showOptions());
    $("#vote-yes").addEventListener("click", () => this.cast());
    $("#vote-hide").addEventListener("click", () => {
      if (this.poll) this.dismissed.add(this.poll.id);
      this.panel.hidden = true;
    });
  }

  openPoll() {
    return this.store.state.polls.find((p) => p.status === "open") || null;
  }

  label(option) {
    return option.role && ROLE_LABEL[option.role] ? t(ROLE_LABEL[option.role]) : option.label;
  }

  render() {
    const poll = this.openPoll();
    if (poll && poll.my_ballot?.voted) this.voted.add(poll.id);
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
    $("#vote-note").textContent = poll.secret ? t("vote_secret") : "";
    if (this.voted.has(poll.id)) this.showDone();
    else if (fresh) this.showOptions();
    this.renderResults();
  }

  showOptions() {
    this.choice = null;
    $("#vote-confirm").hidden = true;
    $("#vote-done").textContent = "";
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
    const ack = await this.live.request(PROTOCOL.vote, PROTOCOL.votePayload(poll, this.choice));
    $("#vote-yes").disabled = false;
    if (ack && (ack.ok || ack.error?.code === "already_voted")) {
      this.voted.add(poll.id);
      this.showDone();
    } else {
      $("#vote-done").textContent = t("vote_failed", { message: ack ? ack.error.message : t("offline") });
      this.showOptions();
      $("#vote-done").textContent = t("vote_failed", { message: ack ? ack.error.message : t("offline") });
    }
  }

  showDone() {
    $("#vote-options").hidden = true;
    $("#vote-confirm").hidden = true;
    $("#vote-done").textContent = t("vote_recorded");
    $("#vote-hide").hidden = false;
    $("#vote-hide").focus();
  }

  onNotice({ name, data }) {
    if (name === PROTOCOL.ballotNotice && data?.poll_id) {
      this.voted.add(data.poll_id);
      if (this.poll && this.poll.id === data.poll_id) this.showDone();
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
        `${this.label(o)}: ${formatNumber(o.count)}`))));
  }
}
