// Request to speak: one big button, then my place in the queue, live.
import { $, t, toast } from "../core/dom.js";
import { formatClock } from "../core/format.js";
import { PROTOCOL } from "../core/protocol.js";

export class SpeakPanel {
  constructor({ live, store, me, meetingId }) {
    this.live = live;
    this.store = store;
    this.me = me;
    this.meetingId = meetingId;
    this.button = $("#speak");
    this.status = $("#speak-status");
    this.current = $("#current-speaker");
    this.button.hidden = !me.role || me.role === "observer";
    this.button.addEventListener("click", () => this.toggle());
    setInterval(() => this.tick(), 1000);
    this.render();
  }

  mine() {
    return this.store.state.speakers.waiting.find((r) => r.user_id === this.me.id) || null;
  }

  async toggle() {
    const mine = this.mine();
    this.button.disabled = true;
    const ack = mine
      ? await this.live.request(PROTOCOL.speakWithdraw, { meeting_id: this.meetingId, request_id: mine.id })
      : await this.live.request(PROTOCOL.speakRequest, { meeting_id: this.meetingId, kind: "speech" });
    this.button.disabled = false;
    if (ack === null) toast(t("offline"), "error");
    else if (!ack.ok) toast(t("error", { message: ack.error.message }), "error");
  }

  render() {
    const { current, waiting } = this.store.state.speakers;
    const idx = waiting.findIndex((r) => r.user_id === this.me.id);
    this.button.textContent = idx >= 0 ? t("speak_withdraw") : t("speak_request");
    this.button.setAttribute("aria-pressed", String(idx >= 0));
    if (current && current.user_id === this.me.id) this.status.textContent = t("speak_now");
    else this.status.textContent = idx >= 0 ? t("speak_position", { n: idx + 1 }) : "";
    this.tick();
  }

  tick() {
    const { current } = this.store.state.speakers;
    if (!current) {
      this.current.textContent = t("speak_none");
      return;
    }
    let text = t("speaking", { name: current.full_name });
    if (current.limit_seconds && current.started_at) {
      const left = current.limit_seconds - (Date.now() - Date.parse(current.started_at)) / 1000;
      text += ` · ${formatClock(left)}`;
    }
    this.current.textContent = text;
  }
}
