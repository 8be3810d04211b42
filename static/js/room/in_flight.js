// Shared strokes while they are drawn (docs/realtime.md §8, "Strokes in flight"): this tablet
// sends the new points of its own shared stroke every SEND_EVERY_MS as a volatile event (never
// queued offline, may be dropped), and draws the others' strokes in flight as a temporary layer,
// gone once the finished stroke (same id) arrives or when nothing came for STALE_MS.
const EVENT = "annotation.stroke_progress";
const SEND_EVERY_MS = 80; // ≈ 12 a second: under the server's 20 a second per author
const MAX_POINTS = 200; // per message (the server's limit); the rest goes in the next one
const STALE_MS = 5000; // a stroke whose author went away mid-line

export class InFlight {
  constructor(annotator) {
    this.ann = annotator;
    this.theirs = new Map(); // stroke id → {document_id, page, color, width, points, at}
    this.layer = document.createElementNS("http://www.w3.org/2000/svg", "g");
    this.layer.setAttribute("class", "ann-in-flight");
    this.layer.dataset.testid = "ann-in-flight";
    this.out = null;
    setInterval(() => this.sweep(), STALE_MS);
  }

  // ------------------------------------------------------------ this tablet's stroke
  begin(stroke) {
    this.out = { stroke, sent: 0, timer: null };
  }

  /** A point was added to the stroke being drawn: send what is new, at most every SEND_EVERY_MS. */
  moved() {
    const out = this.out;
    if (out && !out.timer) out.timer = setTimeout(() => this.send(), SEND_EVERY_MS);
  }

  send() {
    const out = this.out;
    if (!out) return;
    out.timer = null;
    const { stroke } = out;
    // From the last point sent, again: the receiver's line then has no gap between messages.
    const start = Math.max(0, out.sent - 1);
    const points = stroke.points.slice(start, start + MAX_POINTS);
    const { live, viewer } = this.ann;
    if (start + points.length > out.sent && live.socket.connected) {
      out.sent = start + points.length;
      live.socket.volatile.emit(EVENT, {
        meeting_id: live.meetingId, document_id: viewer.docId, page: viewer.pageNumber, stroke_id: stroke.annId,
        points, color: stroke.color, width: stroke.width, visibility: "meeting",
      });
    }
    if (out.sent < stroke.points.length && live.socket.connected) this.moved();
  }

  end() {
    if (this.out?.timer) clearTimeout(this.out.timer);
    this.out = null;
  }

  // ------------------------------------------------------------ the others' strokes
  receive(data) {
    if (data?.meeting_id !== this.ann.live.meetingId) return;
    for (const s of data.strokes || []) {
      if (this.ann.byId.has(s.stroke_id)) continue; // finished already
      const held = this.theirs.get(s.stroke_id) || { ...s, points: [] };
      held.points.push(...s.points);
      held.at = Date.now();
      this.theirs.set(s.stroke_id, held);
    }
    this.render();
  }

  sweep() {
    const old = Date.now() - STALE_MS;
    for (const [id, s] of this.theirs) if (s.at < old) this.theirs.delete(id);
    this.render();
  }

  /** Redraw the temporary layer (the annotator's draw() puts it back on top after each redraw). */
  render() {
    const { ann } = this;
    const lines = [];
    if (ann.viewer.viewport) {
      for (const [id, s] of this.theirs) {
        if (ann.byId.has(id)) {
          this.theirs.delete(id);
          continue;
        }
        if (s.document_id !== ann.docId || s.page !== ann.viewer.pageNumber) continue;
        for (let i = 1; i < s.points.length; i += 1) lines.push(ann.segment(s.points[i - 1], s.points[i], s.color, s.width));
      }
    }
    this.layer.replaceChildren(...lines);
    if (this.layer.parentNode !== ann.svg) ann.svg.append(this.layer);
  }
}
