// The names and shapes of the live protocol in one place (docs/realtime.md and
// meetings/*/events.py are the source of truth; this file follows them).
export const PROTOCOL = {
  join: "meeting.join",
  // No last_seq: the server answers with a full snapshot; with it, the missed events.
  joinPayload: (meetingId, lastSeq) => (lastSeq === null ? { meeting_id: meetingId } : { meeting_id: meetingId, last_seq: lastSeq }),
  snapshotOf: (ack) => ack.snapshot || null,
  seqOf: (ack, snapshot) => snapshot.seq ?? ack.seq ?? 0,
  eventsOf: (ack) => ack.events || [],
  presenter: "presenter.set",
  itemOpen: "item.open",
  itemClose: "item.close",
  attendance: "attendance.mark",
  speakRequest: "speaker.request",
  speakWithdraw: "speaker.withdraw",
  speakCall: "speaker.call",
  speakEnd: "speaker.end",
  speakSkip: "speaker.skip",
  speakReorder: "speaker.reorder",
  vote: "vote.cast",
  votePayload: (poll, option) => ({ poll_id: poll.id, option_ids: [option.id] }),
  ballotNotice: "vote.confirmed",
  annCreate: "annotation.create",
  annUpdate: "annotation.update",
  annDelete: "annotation.delete",
};
