// The live meeting state every screen draws from: a snapshot (on join) plus the
// logged events applied in seq order. Room, console and projector share this one
// reducer, so they cannot disagree about what happened.

export class MeetingStore extends EventTarget {
  constructor(initial = {}) {
    super();
    this.state = {
      meeting: initial.meeting || null,
      agenda: initial.agenda || [],
      presenter: { agenda_item_id: null, document_id: null, page: 1, zoom: 1, presenter_id: null },
      attendance: [],
      quorum: null,
      speakers: { current: null, waiting: [] },
      polls: [],
      online: null,
    };
  }

  changed(what, detail = {}) {
    this.dispatchEvent(new CustomEvent("change", { detail: { what, ...detail } }));
  }

  loadSnapshot(snap) {
    const s = this.state;
    if (snap.meeting) s.meeting = { ...s.meeting, ...snap.meeting };
    if (snap.agenda) s.agenda = snap.agenda;
    if (snap.presenter) s.presenter = snap.presenter;
    if (snap.attendance) s.attendance = snap.attendance;
    if ("quorum" in snap) s.quorum = snap.quorum;
    if (snap.speakers) s.speakers = snap.speakers;
    if (Array.isArray(snap.polls)) s.polls = snap.polls; // the snapshot's "polls" part is a list
    if ("online" in snap) s.online = snap.online;
    this.changed("snapshot");
  }

  /** Private notices that change shared state (the managers' live counts, results before publication). */
  applyNotice({ name, data }) {
    if ((name === "poll.progress" || name === "poll.result") && data?.poll_id) {
      const { poll_id: id, ...rest } = data;
      upsert(this.state.polls, { id, ...rest });
      this.changed("polls", { type: name });
    }
  }

  item(id) {
    return this.state.agenda.find((i) => i.id === id) || null;
  }

  /** Apply one logged event envelope. */
  apply(env) {
    const handler = REDUCERS[env.type] || REDUCERS[env.type.split(".")[0] + ".*"];
    if (!handler) return;
    const what = handler(this.state, env.data || {}, env);
    this.changed(what || env.type.split(".")[0], { type: env.type, env });
  }
}

function upsert(list, obj, key = "id") {
  const i = list.findIndex((x) => x[key] === obj[key]);
  if (i >= 0) list[i] = { ...list[i], ...obj };
  else list.push(obj);
}

function setItemStatus(state, id, status) {
  const item = state.agenda.find((i) => i.id === id);
  if (item) item.status = status;
}

const REDUCERS = {
  "attendance.changed": (s, d) => {
    if (d.attendance) upsert(s.attendance, d.attendance, "user_id");
    if (d.quorum) s.quorum = d.quorum;
    return "attendance";
  },
  // A whole group marked in one call (PUT /attendance, the roll call from the replies): one event.
  "attendance.bulk_changed": (s, d) => {
    for (const row of d.attendance || []) upsert(s.attendance, row, "user_id");
    if (d.quorum) s.quorum = d.quorum;
    return "attendance";
  },
  "presenter.changed": (s, d) => {
    s.presenter = { ...s.presenter, ...d };
    return "presenter";
  },
  "item.opened": (s, d) => {
    for (const id of d.done_item_ids || []) setItemStatus(s, id, "done");
    setItemStatus(s, d.agenda_item_id, "open");
    if (d.presenter) s.presenter = d.presenter;
    return "agenda";
  },
  "item.closed": (s, d) => {
    setItemStatus(s, d.agenda_item_id, d.status);
    return "agenda";
  },
  "speaker.requested": (s, d) => {
    const r = d.request;
    if (r.kind === "point_of_order") s.speakers.waiting.unshift(r);
    else s.speakers.waiting.push(r);
    return "speakers";
  },
  "speaker.withdrawn": (s, d) => dropWaiting(s, d.request_id),
  "speaker.skipped": (s, d) => dropWaiting(s, d.request_id),
  "speaker.called": (s, d) => {
    dropWaiting(s, d.request.id);
    s.speakers.current = d.request;
    return "speakers";
  },
  "speaker.ended": (s) => {
    s.speakers.current = null;
    return "speakers";
  },
  "speaker.reordered": (s, d) => {
    const byId = new Map(s.speakers.waiting.map((r) => [r.id, r]));
    s.speakers.waiting = d.order.map((id) => byId.get(id)).filter(Boolean);
    return "speakers";
  },
  "poll.opened": (s, d) => {
    upsert(s.polls, { ...d.poll, voted: d.voted, entitled: d.entitled });
    return "polls";
  },
  "poll.*": (s, d) => {
    // closed / published / annulled / tally: a delta of one poll, keyed by poll_id.
    if (!d.poll_id) return "polls";
    const { poll_id: id, ...rest } = d;
    upsert(s.polls, { id, ...rest });
    return "polls";
  },
  "meeting.*": (s, d) => {
    if (d.meeting) s.meeting = { ...s.meeting, ...d.meeting };
    else if (d.status) s.meeting = { ...s.meeting, status: d.status };
    return "meeting";
  },
  "agenda.*": (s, d) => {
    if (Array.isArray(d.agenda)) s.agenda = d.agenda;
    else if (Array.isArray(d.items)) s.agenda = d.items;
    else if (d.item) upsert(s.agenda, d.item);
    return "agenda";
  },
};

function dropWaiting(s, id) {
  s.speakers.waiting = s.speakers.waiting.filter((r) => r.id !== id);
  return "speakers";
}
