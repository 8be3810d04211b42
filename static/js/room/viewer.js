// The document viewer: PDF.js, one page at a time (fast page changes on a tablet),
// thumbnails, find in document, button and pinch zoom. Emits "page" when the
// page shown changes and "rendered" after each render (with the page box, which the
// annotation layer follows).
import * as pdfjs from "/vendor/pdfjs-dist/build/pdf.mjs";
import { el, fill, t } from "../core/dom.js";

pdfjs.GlobalWorkerOptions.workerSrc = "/vendor/pdfjs-dist/build/pdf.worker.mjs";

const ZOOM_MIN = 0.5;
const ZOOM_MAX = 4;

export class PdfViewer extends EventTarget {
  constructor({ stage, thumbs }) {
    super();
    this.stage = stage;
    this.thumbs = thumbs;
    this.doc = null;
    this.docId = null;
    this.pageNumber = 1;
    this.zoom = 1;
    this.renderTask = null;
    this.renderGen = 0;
    this.loading = null;
    this.docTask = null;
    this.viewport = null;
    this.textCache = new Map();
    this.page = el("div", { class: "pdf-page", "data-testid": "pdf-page" });
    this.canvas = el("canvas", { class: "pdf-canvas", "aria-hidden": "true" });
    this.textLayerBox = el("div", { class: "textLayer" });
    this.overlay = el("div", { class: "pdf-overlay" });
    this.page.append(this.canvas, this.textLayerBox, this.overlay);
    this.page.hidden = true; // until a document is open; the stage's "choose a document" shows meanwhile
    this.stage.append(this.page);
    if (this.thumbs) this.thumbs.hidden = true;
    this.installPinch();
    new ResizeObserver(() => this.doc && this.render().catch(() => {})).observe(this.stage);
  }

  get pageCount() {
    return this.doc ? this.doc.numPages : 0;
  }

  /**
   * Open a document (URL) and show `page`. Resolves when the page is drawn.
   *
   * `docId` names the document actually shown; `loading` the one on its way. A newer open()
   * supersedes an older one (its load is destroyed), and renders are numbered so a render of
   * the old document that was still waiting for its page can never paint over the new one.
   */
  async open(docId, url, page = 1, { again = false } = {}) {
    if (this.loading && this.loading.docId === docId) {
      this.loading.page = page; // same document already on its way: just aim at the newer page
      return this.loading.promise;
    }
    if (!again && !this.loading && this.docId === docId && this.doc) return this.show(page);
    this.loading?.task.destroy();
    // Whole-file requests: agenda PDFs are small, and a 200 answer is what the offline cache keeps.
    const task = pdfjs.getDocument({ url, withCredentials: true, isEvalSupported: false, disableRange: true, disableStream: true });
    const loading = { docId, page, task };
    this.loading = loading;
    loading.promise = (async () => {
      let doc;
      try {
        doc = await task.promise;
      } catch (err) {
        if (this.loading !== loading) return; // superseded: its load was cancelled on purpose
        this.loading = null;
        // A failed load keeps its PDF.js worker until destroyed: a tablet retrying through a Wi-Fi
        // drop would otherwise pile up one worker per attempt.
        task.destroy();
        throw err;
      }
      if (this.loading !== loading) {
        task.destroy(); // another document was chosen meanwhile (PDF.js 6: documents close through their task)
        return;
      }
      this.loading = null;
      const oldTask = this.docTask;
      this.renderGen += 1; // any render of the old document still in flight is now stale
      this.renderTask?.cancel();
      this.doc = doc;
      this.docTask = task;
      this.docId = docId;
      this.textCache.clear();
      // PDFDocumentProxy has no destroy() in PDF.js 6: calling it threw after `docId` had already
      // moved on, so the viewer kept drawing the old document under the new id (the restart bug).
      oldTask?.destroy();
      this.pageNumber = Math.min(Math.max(1, loading.page), doc.numPages);
      this.stage.querySelector(".empty")?.remove();
      this.page.hidden = false;
      if (this.thumbs && !this.thumbsOff) this.thumbs.hidden = false;
      this.buildThumbnails();
      await this.render();
      this.dispatchEvent(new CustomEvent("page", { detail: { page: this.pageNumber, docId } }));
    })();
    return loading.promise;
  }

  /**
   * Fetch the shown document's file again and stay on its page: its file changed under the same
   * id (a scan's OCR text layer is ready: `document.text_layer`, docs/realtime.md), so highlights
   * and find now have text. Nothing happens if another document is shown or on its way.
   */
  async reload(docId, url) {
    if (this.docId !== docId || !this.doc || this.loading) return;
    return this.open(docId, url, this.pageNumber, { again: true });
  }

  /** Reload on `document.text_layer` events of `live` (a LiveClient) once the text layer is ready. */
  followTextLayer(live, urlOf) {
    live.addEventListener("event", (e) => {
      const { type, data } = e.detail || {};
      if (type === "document.text_layer" && data?.text_layer === "ready") {
        this.reload(data.document_id, urlOf(data.document_id)).catch(() => {});
      }
    });
  }

  async show(n) {
    if (!this.doc) return;
    const page = Math.min(Math.max(1, Math.trunc(n) || 1), this.doc.numPages);
    if (page === this.pageNumber && this.page.dataset.rendered === String(page)
        && this.page.dataset.doc === String(this.docId)) return;
    this.pageNumber = page;
    await this.render();
    this.dispatchEvent(new CustomEvent("page", { detail: { page, docId: this.docId } }));
  }

  setZoom(z) {
    this.zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
    this.dispatchEvent(new CustomEvent("zoom", { detail: { zoom: this.zoom } }));
    return this.render();
  }

  /** Draw the current page of the current document; a later render() makes this one stale. */
  async render() {
    const doc = this.doc;
    if (!doc) return;
    this.renderGen += 1;
    const gen = this.renderGen;
    const stale = () => gen !== this.renderGen || doc !== this.doc;
    const number = this.pageNumber;
    let pdfPage;
    try {
      pdfPage = await doc.getPage(number);
    } catch (err) {
      if (stale()) return; // the document was closed while its page loaded
      throw err;
    }
    if (stale()) return;
    const base = pdfPage.getViewport({ scale: 1 });
    // Zoom 1 fits the page to the stage (width, or height on a wide stage).
    const fit = Math.min((this.stage.clientWidth - 16) / base.width, (this.stage.clientHeight - 16) / base.height);
    const scale = Math.max(0.1, fit) * this.zoom;
    const viewport = pdfPage.getViewport({ scale });
    const ratio = window.devicePixelRatio || 1;
    this.renderTask?.cancel();
    const canvas = this.canvas;
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    this.page.style.width = `${Math.floor(viewport.width)}px`;
    this.page.style.height = `${Math.floor(viewport.height)}px`;
    this.page.style.setProperty("--total-scale-factor", String(scale));
    this.page.style.setProperty("--scale-factor", String(scale));
    const task = pdfPage.render({
      canvas,
      viewport,
      transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
    });
    this.renderTask = task;
    try {
      await task.promise;
    } catch (err) {
      if (err?.name === "RenderingCancelledException" || stale()) return;
      throw err;
    }
    if (stale()) return;
    this.textLayerBox.replaceChildren();
    const textLayer = new pdfjs.TextLayer({
      textContentSource: pdfPage.streamTextContent(),
      container: this.textLayerBox,
      viewport,
    });
    await textLayer.render().catch(() => {});
    if (stale()) return;
    this.viewport = viewport;
    this.page.dataset.doc = String(this.docId);
    this.page.dataset.rendered = String(number);
    this.highlightQuery();
    this.markThumb();
    this.dispatchEvent(new CustomEvent("rendered", {
      detail: { page: number, docId: this.docId, width: viewport.width, height: viewport.height, viewport },
    }));
  }

  buildThumbnails() {
    if (!this.thumbs) return;
    const buttons = [];
    for (let n = 1; n <= this.doc.numPages; n += 1) {
      const canvas = el("canvas", { "aria-hidden": "true" });
      const btn = el("button", {
        type: "button", class: "thumb", "aria-label": t("page_n", { n }), dataset: { page: n },
        onclick: () => this.dispatchEvent(new CustomEvent("request-page", { detail: { page: n } })),
      }, canvas, el("span", {}, String(n)));
      buttons.push(btn);
    }
    fill(this.thumbs, buttons);
    // Draw thumbnails only as they scroll into view: a 200-page budget is cheap this way.
    const doc = this.doc;
    const io = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        io.unobserve(entry.target);
        this.drawThumb(doc, Number(entry.target.dataset.page), entry.target.querySelector("canvas"));
      }
    }, { root: this.thumbs });
    buttons.forEach((b) => io.observe(b));
  }

  async drawThumb(doc, n, canvas) {
    if (doc !== this.doc) return;
    const page = await doc.getPage(n).catch(() => null); // closed meanwhile: nothing to draw
    if (!page || doc !== this.doc) return;
    const vp = page.getViewport({ scale: 120 / page.getViewport({ scale: 1 }).width });
    canvas.width = vp.width;
    canvas.height = vp.height;
    await page.render({ canvas, viewport: vp }).promise.catch(() => {});
  }

  markThumb() {
    if (!this.thumbs) return;
    for (const b of this.thumbs.querySelectorAll(".thumb")) {
      const current = Number(b.dataset.page) === this.pageNumber;
      b.classList.toggle("current", current);
      if (current) {
        b.setAttribute("aria-current", "page");
        b.scrollIntoView({ block: "nearest" });
      } else b.removeAttribute("aria-current");
    }
  }

  async pageText(n) {
    if (!this.textCache.has(n)) {
      const page = await this.doc.getPage(n);
      const content = await page.getTextContent();
      this.textCache.set(n, content.items.map((i) => i.str).join(" ").normalize("NFC").toLocaleLowerCase());
    }
    return this.textCache.get(n);
  }

  /** Pages containing `query` (case-insensitive, Unicode-normalised so Vietnamese matches). */
  async find(query) {
    this.query = query.normalize("NFC").toLocaleLowerCase().trim();
    if (!this.doc || !this.query) {
      this.highlightQuery();
      return [];
    }
    const hits = [];
    for (let n = 1; n <= this.doc.numPages; n += 1) if ((await this.pageText(n)).includes(this.query)) hits.push(n);
    this.highlightQuery();
    return hits;
  }

  highlightQuery() {
    for (const span of this.textLayerBox.querySelectorAll("span")) {
      const hit = !!this.query && span.textContent.normalize("NFC").toLocaleLowerCase().includes(this.query);
      span.classList.toggle("find-hit", hit);
    }
  }

  installPinch() {
    // Two fingers scale the page with CSS while they move, then render once at the new zoom.
    const touches = new Map();
    let startDist = 0;
    let startZoom = 1;
    const dist = () => {
      const [a, b] = [...touches.values()];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    this.stage.addEventListener("pointerdown", (e) => {
      if (e.pointerType !== "touch") return;
      touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (touches.size === 2) {
        startDist = dist();
        startZoom = this.zoom;
        this.pinching = true;
      }
    });
    this.stage.addEventListener("pointermove", (e) => {
      if (!touches.has(e.pointerId)) return;
      touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (touches.size === 2 && startDist > 0) {
        const factor = dist() / startDist;
        this.page.style.transform = `scale(${factor})`;
        this.pendingZoom = startZoom * factor;
      }
    });
    const end = (e) => {
      touches.delete(e.pointerId);
      if (this.pinching && touches.size < 2) {
        this.pinching = false;
        this.page.style.transform = "";
        if (this.pendingZoom) this.setZoom(this.pendingZoom);
        this.pendingZoom = null;
      }
    };
    this.stage.addEventListener("pointerup", end);
    this.stage.addEventListener("pointercancel", end);
  }
}
