// A document's conversion and text-layer status on the preparation page, kept live:
// meeting events about documents (and notices to this user) refresh the list, and while
// any document waits for OCR the list is also asked again every few seconds (a draft
// meeting's events reach nobody, and a notice may be missed while offline).
import { api } from "../core/api.js";
import { el } from "../core/dom.js";
import { ct } from "./strings.js";

const POLL_MS = 5000;
const WAITING = new Set(["queued", "running"]);

/** The shape the page keeps of a document (REST DocumentOut or the boot block). */
export function docRow(d) {
  return { id: d.id, title: d.title, item_id: d.agenda_item_id ?? d.item_id ?? null, pages: d.pages,
    published: d.published, text_layer: d.text_layer || "text", ocr_error: d.ocr_error || null,
    source_format: d.source_format || null, source_url: d.source_url || null,
    source_filename: d.source_filename || null, series_id: d.series_id ?? d.id };
}

/** The status badge: "Đã có lớp chữ", "Đang nhận dạng chữ (OCR)…", "OCR lỗi: …" (+ "từ DOCX"). */
export function statusBadge(doc) {
  const state = doc.text_layer || "text";
  const text = state === "failed" ? ct("ocr_failed", { reason: doc.ocr_error || "?" })
    : WAITING.has(state) ? ct(`ocr_${state}`) : ct("text_layer_ready");
  return el("span", { class: `doc-status badge ${state}`, role: "status", dataset: { textLayer: state } },
    text, doc.source_format ? el("span", { class: "muted" }, ` · ${ct("converted_from", { format: doc.source_format.toUpperCase() })}`) : null);
}

/**
 * Keep `state.documents` fresh: `onChange()` after each refresh. `live` is the meeting's LiveClient
 * (or null). Returns {refresh, update}.
 */
export function watchDocuments(meetingId, live, state, onChange) {
  let timer = null;
  let pending = null;
  async function refresh() {
    if (pending) return pending;
    pending = (async () => {
      try {
        const list = await api("GET", `/meetings/${meetingId}/documents`);
        if (Array.isArray(list)) state.documents = list.map(docRow);
        onChange();
      } catch { /* offline or refused: the next event or poll tries again */ }
    })();
    try { await pending; } finally { pending = null; schedule(); }
  }
  function schedule() {
    clearTimeout(timer);
    if (state.documents.some((d) => WAITING.has(d.text_layer))) timer = setTimeout(refresh, POLL_MS);
  }
  /** An event naming a document and its new text layer updates it at once; any other document event refreshes. */
  function onEvent(type, data) {
    if (!type || !type.startsWith("document")) return;
    const id = data?.document_id ?? data?.id;
    const doc = state.documents.find((d) => d.id === id);
    if (doc && data?.text_layer) {
      doc.text_layer = data.text_layer;
      doc.ocr_error = data.ocr_error ?? data.error ?? doc.ocr_error;
      onChange();
      schedule();
      return;
    }
    refresh();
  }
  if (live) {
    live.addEventListener("event", (e) => onEvent(e.detail?.type, e.detail?.data));
    live.addEventListener("notice", (e) => onEvent(e.detail?.name, e.detail?.data));
  }
  schedule();
  return { refresh, update: onChange, onEvent };
}
