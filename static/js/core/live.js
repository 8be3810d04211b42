// The live connection to one meeting: Socket.IO with the browser session,
// automatic reconnect, and catch-up by seq so a tablet that dropped off the
// hall Wi-Fi misses nothing (docs/realtime.md).
//
// Events: "state" (connection state changed: connecting | online | syncing | offline),
// "snapshot" (full state after a long absence), "event" (every logged envelope, in seq
// order, exactly once), "<type>" (the same envelope by its type, e.g. "presenter.page"),
// and "notice" for private notices sent to this user's room.
import { io } from "/vendor/socket.io-client/dist/socket.io.esm.min.js";
import { Outbox, clearOfflineData } from "./offline.js";
import { PROTOCOL } from "./protocol.js";

const ACK_TIMEOUT_MS = 8000;

export class LiveClient extends EventTarget {
  constructor(meetingId, { lastSeq = null } = {}) {
    super();
    this.meetingId = meetingId;
    this.lastSeq = lastSeq;
    this.state = "connecting";
    this.outbox = new Outbox(meetingId);
    this.joining = null;
    this.socket = io({
      // WebSocket first: one connection per tablet, no long-polling fallback churn on hall Wi-Fi.
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      randomizationFactor: 0.5,
    });
    this.socket.on("connect", () => this.join());
    this.socket.on("disconnect", () => this.setState("offline"));
    this.socket.on("connect_error", (err) => (err?.message === "session_ended" ? this.signedOut() : this.setState("offline")));
    // This device was signed out (logout elsewhere, a lost tablet signed out, a password change):
    // the server disconnects it; wipe what the offline mode kept and go to the login form.
    this.socket.on("session.revoked", () => this.signedOut());
    this.socket.on("event", (env) => this.receive(env));
    this.socket.onAny((name, data) => {
      if (name !== "event") this.dispatch("notice", { name, data });
    });
    window.addEventListener("online", () => this.socket.connected || this.socket.connect());
    // A cut network does not always close an open WebSocket at once (the browser waits for it to time
    // out); drop it so changes go to the outbox instead of into a dead connection.
    window.addEventListener("offline", () => this.socket.disconnect());
    globalThis.__liveClient = this; window.dispatchEvent(new CustomEvent("live:client", { detail: this })); // the bell (core/notifications.js)
  }

  async signedOut() {
    this.socket.io.opts.reconnection = false;
    this.socket.disconnect();
    try {
      await clearOfflineData();
    } finally {
      window.location.assign("/login");
    }
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatch("state", { state });
  }

  dispatch(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Join (or re-join) the meeting room and catch up from lastSeq. */
  async join() {
    if (this.joining) return this.joining;
    this.setState("syncing");
    this.joining = (async () => {
      const ack = await this.request(PROTOCOL.join, PROTOCOL.joinPayload(this.meetingId, this.lastSeq));
      if (!ack) return; // dropped again; the next "connect" retries
      if (!ack.ok) {
        this.dispatch("error", ack.error);
        this.setState("offline");
        return;
      }
      const snapshot = PROTOCOL.snapshotOf(ack);
      if (snapshot) {
        this.lastSeq = PROTOCOL.seqOf(ack, snapshot);
        this.dispatch("snapshot", snapshot);
      }
      for (const env of PROTOCOL.eventsOf(ack)) this.apply(env);
      this.setState("online");
      // Changes made offline go out after the catch-up, in the order they were made.
      await this.outbox.flush((name, payload) => this.request(name, payload));
    })();
    try {
      await this.joining;
    } finally {
      this.joining = null;
    }
  }

  receive(env) {
    if (!env || env.meeting_id !== this.meetingId) return;
    if (this.lastSeq !== null && env.seq > this.lastSeq + 1) {
      this.join(); // a gap: fetch what is missing, in order, rather than apply out of order
      return;
    }
    this.apply(env);
  }

  apply(env) {
    if (this.lastSeq !== null && env.seq <= this.lastSeq) return; // already seen (duplicate after catch-up)
    this.lastSeq = env.seq;
    this.dispatch("event", env);
    this.dispatch(env.type, env);
  }

  /** Emit and wait for the acknowledgement; null when offline or no answer came. */
  request(name, payload = {}) {
    if (!this.socket.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.socket.timeout(ACK_TIMEOUT_MS).emit(name, payload, (err, ack) => resolve(err ? null : ack));
    });
  }

  /** Emit now, or keep it in the outbox until the connection is back. */
  async send(name, payload) {
    const ack = await this.request(name, payload);
    if (ack === null) {
      this.outbox.push(name, payload);
      return { ok: true, queued: true };
    }
    return ack;
  }
}

/** Keep a status pill (role=status) in step with the connection. */
export function bindConnectionIndicator(live, node, labels) {
  const show = (state) => {
    node.dataset.state = state;
    node.textContent = labels[state] || state;
  };
  show(live.state);
  live.addEventListener("state", (ev) => show(ev.detail.state));
}
