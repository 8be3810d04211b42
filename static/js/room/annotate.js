// The annotation layer over the viewer: pen (with pressure and palm rejection), highlighter on
// the PDF.js text layer, notes, eraser, colours, private/shared, undo. Geometry is kept in PDF
// page space (viewport.convertToPdfPoint / convertToViewportPoint), so zoom and device do not
// matter. Changes go over the socket with client UUIDs (replays are idempotent); offline they wait
// in the outbox and the local copy is drawn at once (docs/realtime.md §8).
import { api } from "../core/api.js";
import { el, fill, t, toast } from "../core/dom.js";
import { PROTOCOL } from "../core/protocol.js";
import { InFlight } from "./in_flight.js";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = [
  { value: "#d32f2f", key: "color_red" },
  { value: "#1565c0", key: "color_blue" },
  { value: "#2e7d32", key: "color_green" },
  { value: "#f9a825", key: "color_yellow" },
];
const TOOLS = ["read", "pen", "highlight", "note", "eraser"];
const PEN_WIDTH = 2; // pt at pressure 0.5
const ERASE_TOLERANCE = 10; // pt
const CACHE_PREFIX = "meetings.ann.";

/** A v4 UUID, also where crypto.randomUUID is missing (plain-HTTP hall networks). */
export function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const round = (v) => Math.round(v * 100) / 100;

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export class Annotator {
  constructor({ viewer, live, me, bar }) {
    this.viewer = viewer;
    this.live = live;
    this.me = me;
    this.bar = bar;
    this.tool = "read";
    this.color = COLORS[0].value;
    this.shared = false;
    this.byId = new Map(); // id → the highest version we hold (tombstones included)
    this.cursor = new Map(); // document id → list cursor
    this.undoStack = []; // this session's own actions: {op: "create" | "delete", ann}
    this.penSeen = false; // palm rejection: once a pen draws, touches no longer do
    this.stroke = null;
    this.svg = svg("svg", { class: "ann-svg", "data-testid": "ann-layer" });
    this.notes = el("div", { class: "ann-notes" });
    this.inFlight = new InFlight(this); // shared strokes while they are drawn
    viewer.overlay.append(this.svg, this.notes);
    this.buildBar();
    this.installPointer();
    viewer.addEventListener("rendered", (e) => {
      if (e.detail.docId !== this.docId) this.load(e.detail.docId);
      this.draw();
    });
    live.addEventListener("state", (e) => e.detail.state === "online" && this.docId && this.load(this.docId));
    document.addEventListener("selectionchange", () => this.tool === "highlight" && this.armHighlight());
    viewer.textLayerBox.addEventListener("pointerup", () => this.tool === "highlight" && this.highlightSelection());
    viewer.textLayerBox.addEventListener("keyup", () => this.tool === "highlight" && this.highlightSelection());
  }

  get active() {
    return this.tool !== "read";
  }

  // ---------------------------------------------------------------- toolbar
  buildBar() {
    const toolButton = (tool) => el("button", {
      type: "button", class: "tool", "aria-pressed": String(tool === this.tool), dataset: { tool },
      onclick: (e) => this.setTool(tool, { keyboard: e.detail === 0 }),
    }, t(`tool_${tool}`));
    const swatch = (c) => el("button", {
      type: "button", class: "swatch", "aria-pressed": String(c.value === this.color), "aria-label": t(c.key),
      title: t(c.key), dataset: { color: c.value }, style: `--swatch:${c.value}`,
      onclick: () => this.setColor(c.value),
    });
    this.toolButtons = TOOLS.map(toolButton);
    this.swatches = COLORS.map(swatch);
    this.shareButton = el("button", {
      type: "button", class: "toggle", id: "ann-shared", "aria-pressed": "false",
      onclick: () => this.setShared(!this.shared),
    }, t("private"));
    this.undoButton = el("button", { type: "button", id: "ann-undo", class: "secondary", onclick: () => this.undo() },
      t("undo"));
    fill(this.bar,
      el("span", { class: "tool-group", role: "group", "aria-label": t("tools") }, this.toolButtons),
      el("span", { class: "tool-group", role: "group", "aria-label": t("colour") }, this.swatches),
      this.shareButton, this.undoButton);
  }

  setTool(tool, { keyboard = false } = {}) {
    this.tool = tool;
    for (const b of this.toolButtons) b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
    const drawing = tool === "pen" || tool === "note" || tool === "eraser";
    this.viewer.overlay.classList.toggle("drawing", drawing);
    this.viewer.page.dataset.tool = tool;
    if (tool === "highlight" && this.color === COLORS[0].value) this.setColor(COLORS[3].value);
    if (tool === "note" && keyboard) this.askNote([36, this.pageHeight() - 36]); // no pointer: top left of the page
  }

  setColor(color) {
    this.color = color;
    for (const b of this.swatches) b.setAttribute("aria-pressed", String(b.dataset.color === color));
  }

  setShared(on) {
    this.shared = on;
    this.shareButton.setAttribute("aria-pressed", String(on));
    this.shareButton.textContent = on ? t("shared") : t("private");
  }

  showBar() {
    this.bar.hidden = !this.viewer.doc;
  }

  // ---------------------------------------------------------------- data
  get docId() {
    return this.viewer.docId;
  }

  cacheKey(docId) {
    return CACHE_PREFIX + docId;
  }

  save(docId) {
    const list = [...this.byId.values()].filter((a) => a.document_id === docId && !a.deleted);
    try {
      localStorage.setItem(this.cacheKey(docId), JSON.stringify(list));
    } catch { /* storage full: the server still has them */ }
  }

  /** Fetch the document's annotations (changes since the last cursor); offline, the device's copy. */
  async load(docId) {
    this.showBar();
    if (!this.cursor.has(docId)) {
      try {
        for (const a of JSON.parse(localStorage.getItem(this.cacheKey(docId)) || "[]")) this.upsert(a, { quiet: true });
      } catch { /* a broken cache is simply ignored */ }
    }
    const since = this.cursor.get(docId);
    try {
      const res = await api("GET", `/documents/${docId}/annotations${since !== undefined ? `?since=${since}` : ""}`);
      for (const a of res.annotations || []) this.upsert(a, { quiet: true });
      if (res.cursor !== undefined) this.cursor.set(docId, res.cursor);
      this.save(docId);
    } catch (err) {
      if (err.code !== "offline") toast(t("error", { message: err.message }), "error");
    }
    if (docId === this.docId) this.draw();
  }

  /** Keep the newer of what we hold and `ann` (by version); pending local copies have version 0. */
  upsert(ann, { quiet = false } = {}) {
    if (!ann?.id) return;
    const held = this.byId.get(ann.id);
    if (held && (held.version || 0) > (ann.version || 0)) return;
    if (held && held.version === ann.version && !held.pending) return;
    this.byId.set(ann.id, ann.deleted ? { ...held, ...ann } : ann);
    if (!quiet) {
      this.save(ann.document_id ?? held?.document_id);
      if ((ann.document_id ?? held?.document_id) === this.docId) this.draw();
    }
  }

  /** Logged meeting events (shared annotations of everyone). */
  onEvent(env) {
    if (!env.type?.startsWith("annotation.")) return;
    this.receive(env.type, env.data || {});
  }

  /** Private notices to this user's devices. */
  onNotice({ name, data }) {
    if (name?.startsWith("annotation.")) this.receive(name, data || {});
  }

  receive(type, data) {
    if (type === "annotation.stroke_progress") {
      this.inFlight.receive(data);
      return;
    }
    if (type === "annotation.withdrawn") {
      this.byId.delete(data.id);
      if (data.document_id === this.docId) this.draw();
      return;
    }
    if (data.annotation) this.upsert(data.annotation);
  }

  // ---------------------------------------------------------------- changes
  async create(fields, { record = true } = {}) {
    const ann = {
      id: uuid4(), document_id: this.docId, page: this.viewer.pageNumber, color: this.color,
      visibility: this.shared ? "meeting" : "private", ...fields,
    };
    const local = { ...ann, author_id: this.me.id, version: 0, pending: true };
    this.byId.set(ann.id, local);
    this.draw();
    if (record) this.undoStack.push({ op: "create", ann: local });
    const ack = await this.live.send(PROTOCOL.annCreate, ann);
    this.settle(ack, ann.document_id);
    return local;
  }

  async remove(ann, { record = true } = {}) {
    this.byId.set(ann.id, { ...ann, deleted: true, version: (ann.version || 0) + 1 });
    this.draw();
    if (record) this.undoStack.push({ op: "delete", ann });
    const ack = await this.live.send(PROTOCOL.annDelete, { id: ann.id });
    this.settle(ack, ann.document_id);
  }

  settle(ack, docId) {
    if (ack?.queued) {
      this.save(docId);
      toast(t("offline_queued"));
    } else if (ack?.ok && ack.annotation) this.upsert(ack.annotation);
    else if (ack && !ack.ok) toast(t("error", { message: ack.error?.message || "" }), "error");
  }

  /** Undo this session's last own action: a creation is deleted, a deletion made again. */
  async undo() {
    const last = this.undoStack.pop();
    if (!last) {
      toast(t("undo_nothing"));
      return;
    }
    const current = this.byId.get(last.ann.id) || last.ann;
    if (last.op === "create") await this.remove(current, { record: false });
    else {
      // The server keeps a deleted id as a tombstone, so the restored annotation gets a new id.
      const { kind, page, geometry, color, visibility, anchor, text, document_id: documentId } = last.ann;
      const restored = await this.create({ kind, page, geometry, color, visibility, anchor, text, document_id: documentId },
        { record: false });
      for (const entry of this.undoStack) if (entry.ann.id === last.ann.id) entry.ann = restored;
    }
  }

  // ---------------------------------------------------------------- geometry
  toPdf(clientX, clientY) {
    const box = this.viewer.page.getBoundingClientRect();
    const [x, y] = this.viewer.viewport.convertToPdfPoint(clientX - box.left, clientY - box.top);
    return [round(x), round(y)];
  }

  toView(x, y) {
    return this.viewer.viewport.convertToViewportPoint(x, y);
  }

  pageHeight() {
    const vp = this.viewer.viewport;
    return vp ? vp.viewBox[3] : 792;
  }

  // ---------------------------------------------------------------- pointer: pen, note, eraser
  installPointer() {
    const overlay = this.viewer.overlay;
    overlay.addEventListener("pointerdown", (e) => {
      if (!this.viewer.viewport) return;
      if (e.pointerType === "pen") this.penSeen = true;
      if (e.pointerType === "touch" && this.penSeen) return; // a palm while the pen writes
      if (this.tool === "pen") {
        e.preventDefault();
        try {
          overlay.setPointerCapture(e.pointerId);
        } catch { /* a pointer the browser no longer tracks: draw without capture */ }
        this.stroke = { id: e.pointerId, annId: uuid4(), color: this.color, width: PEN_WIDTH, points: [],
          path: svg("g", { class: "ann-live" }) };
        this.svg.append(this.stroke.path);
        if (this.shared) this.inFlight.begin(this.stroke);
        this.addPoint(e);
      } else if (this.tool === "eraser") {
        this.erasing = e.pointerId;
        this.eraseAt(e);
      } else if (this.tool === "note") {
        this.askNote(this.toPdf(e.clientX, e.clientY));
      }
    });
    overlay.addEventListener("pointermove", (e) => {
      if (this.stroke && e.pointerId === this.stroke.id) {
        const batch = e.getCoalescedEvents?.() || [];
        for (const c of batch.length ? batch : [e]) this.addPoint(c); // synthetic events have no batch
      } else if (this.erasing === e.pointerId) this.eraseAt(e);
    });
    const end = (e) => {
      if (this.erasing === e.pointerId) this.erasing = null;
      if (!this.stroke || e.pointerId !== this.stroke.id) return;
      const { points, path, annId } = this.stroke;
      this.stroke = null;
      this.inFlight.end();
      path.remove();
      if (points.length < 2) return;
      // The id its points in flight carried: the others replace them with the finished stroke.
      this.create({ id: annId, kind: "ink", geometry: { strokes: [points.slice(0, 4000)], width: PEN_WIDTH } });
    };
    overlay.addEventListener("pointerup", end);
    overlay.addEventListener("pointercancel", end);
  }

  addPoint(e) {
    const [x, y] = this.toPdf(e.clientX, e.clientY);
    // Mice report 0.5 while a button is down; pens and some touch screens report real pressure.
    const pressure = e.pointerType === "mouse" ? 0.5 : Math.min(1, Math.max(0, e.pressure || 0.5));
    const pts = this.stroke.points;
    const prev = pts[pts.length - 1];
    pts.push([x, y, round(pressure)]);
    if (prev) this.stroke.path.append(this.segment(prev, pts[pts.length - 1], this.color, PEN_WIDTH));
    this.inFlight.moved();
  }

  segment(a, b, color, width) {
    const [x1, y1] = this.toView(a[0], a[1]);
    const [x2, y2] = this.toView(b[0], b[1]);
    const scale = this.viewer.viewport.scale;
    const w = width * scale * (0.4 + 1.2 * ((a[2] ?? 0.5) + (b[2] ?? 0.5)) / 2);
    return svg("line", { x1, y1, x2, y2, stroke: color, "stroke-width": w.toFixed(2), "stroke-linecap": "round" });
  }

  eraseAt(e) {
    const [x, y] = this.toPdf(e.clientX, e.clientY);
    const hit = this.onPage().find((a) => a.author_id === this.me.id && !a.pending && this.hits(a, x, y));
    if (hit) this.remove(hit);
  }

  hits(a, x, y) {
    const g = a.geometry || {};
    const near = (px, py) => Math.hypot(px - x, py - y) <= ERASE_TOLERANCE;
    if (a.kind === "ink") return (g.strokes || []).some((s) => s.some((p) => near(p[0], p[1])));
    if (a.kind === "highlight") return (g.rects || []).some(([x1, y1, x2, y2]) => x >= x1 && x <= x2 && y >= y1 && y <= y2);
    if (a.kind === "note") return near(g.point[0], g.point[1]) || Math.hypot(g.point[0] - x, g.point[1] - y) < 20;
    if (a.kind === "rect") {
      const [x1, y1, x2, y2] = g.rect;
      return x >= x1 - 4 && x <= x2 + 4 && y >= y1 - 4 && y <= y2 + 4;
    }
    return false;
  }

  askNote(point) {
    const dialog = document.getElementById("note-dialog");
    const input = document.getElementById("note-text");
    input.value = "";
    dialog.returnValue = "";
    dialog.onclose = () => {
      const text = input.value;
      if (dialog.returnValue === "save" && text.trim()) this.create({ kind: "note", geometry: { point }, text });
    };
    dialog.showModal();
    input.focus();
  }

  // ---------------------------------------------------------------- highlighter
  armHighlight() {
    const sel = document.getSelection();
    this.selection = sel && !sel.isCollapsed && this.viewer.textLayerBox.contains(sel.anchorNode) ? sel : null;
  }

  highlightSelection() {
    const sel = document.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    const layer = this.viewer.textLayerBox;
    if (!layer.contains(range.commonAncestorContainer)) return;
    const exact = range.toString();
    if (!exact.trim()) return;
    const before = document.createRange();
    before.setStart(layer, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const start = before.toString().length;
    const text = layer.textContent;
    const end = start + exact.length;
    const rects = [];
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      const [x1, y1] = this.toPdf(r.left, r.top);
      const [x2, y2] = this.toPdf(r.right, r.bottom);
      rects.push([Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)]);
    }
    if (!rects.length) return;
    sel.removeAllRanges();
    this.create({
      kind: "highlight", geometry: { rects: rects.slice(0, 200) },
      anchor: { exact: exact.slice(0, 2000), prefix: text.slice(Math.max(0, start - 32), start),
        suffix: text.slice(end, end + 32), start, end },
    });
  }

  // ---------------------------------------------------------------- drawing
  onPage() {
    const page = this.viewer.pageNumber;
    return [...this.byId.values()].filter((a) => a.document_id === this.docId && a.page === page && !a.deleted
      && !a.orphaned);
  }

  draw() {
    const vp = this.viewer.viewport;
    this.showBar();
    if (!vp || this.viewer.page.dataset.doc !== String(this.docId)) return;
    this.svg.setAttribute("viewBox", `0 0 ${vp.width} ${vp.height}`);
    const live = this.stroke?.path;
    const shapes = [];
    const notes = [];
    for (const a of this.onPage()) {
      const attrs = { "data-ann-id": a.id, "data-kind": a.kind, "data-visibility": a.visibility,
        class: `ann ${a.author_id === this.me.id ? "mine" : "theirs"}${a.pending ? " pending" : ""}` };
      const g = a.geometry || {};
      if (a.kind === "ink") {
        const group = svg("g", attrs);
        for (const s of g.strokes || []) for (let i = 1; i < s.length; i += 1) group.append(this.segment(s[i - 1], s[i], a.color, g.width || PEN_WIDTH));
        shapes.push(group);
      } else if (a.kind === "highlight") {
        const group = svg("g", { ...attrs, fill: a.color, "fill-opacity": "0.35" });
        for (const [x1, y1, x2, y2] of g.rects || []) {
          const [ax, ay] = this.toView(x1, y1);
          const [bx, by] = this.toView(x2, y2);
          group.append(svg("rect", { x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax), height: Math.abs(by - ay) }));
        }
        if (a.anchor?.exact) group.append(Object.assign(svg("title"), { textContent: a.anchor.exact }));
        shapes.push(group);
      } else if (a.kind === "rect" || a.kind === "arrow") {
        const [x1, y1, x2, y2] = g.rect || g.line;
        const [ax, ay] = this.toView(x1, y1);
        const [bx, by] = this.toView(x2, y2);
        const w = (g.width || 2) * vp.scale;
        shapes.push(a.kind === "rect"
          ? svg("rect", { ...attrs, x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax), height: Math.abs(by - ay), fill: "none", stroke: a.color, "stroke-width": w })
          : svg("line", { ...attrs, x1: ax, y1: ay, x2: bx, y2: by, stroke: a.color, "stroke-width": w }));
      } else if (a.kind === "note" && g.point) {
        const [x, y] = this.toView(g.point[0], g.point[1]);
        // Text goes in as text (el() never parses HTML): notes are untrusted.
        notes.push(el("button", {
          type: "button", class: `ann-note${a.pending ? " pending" : ""}`, style: `left:${x}px;top:${y}px;--note:${a.color}`,
          "aria-label": t("note_label", { text: a.text || "" }), title: a.text || "", dataset: { annId: a.id, kind: "note" },
          onclick: () => (this.tool === "eraser" && a.author_id === this.me.id ? this.remove(a) : toast(a.text || "")),
        }, "✎"));
      }
    }
    this.svg.replaceChildren(...shapes, ...(live ? [live] : []));
    this.inFlight.render();
    fill(this.notes, notes);
  }
}
