// The preparation page's agenda: items and sub-items in order, titles edited in place,
// moved by drag and drop (mouse: HTML drag and drop; touch and pen: pointer events on the
// ⠿ handle), by the ↑/↓ buttons (keyboard too) and "move to item …"; each item's
// document slots ("Chờ tài liệu: …") with their documents' status.
// Every move is one request (POST /items/{id}/move) that answers the whole agenda.
import { api } from "../core/api.js";
import { $, el, fill, t, toast } from "../core/dom.js";
import { inlineEdit } from "./inline_edit.js";
import { ct } from "./strings.js";

// What the upload takes (helper H1: Office files are converted to PDF on the server).
const ACCEPT = ".pdf,.docx,.doc,.odt,.rtf,.xlsx,.xls,.ods,.pptx,.ppt,.odp,application/pdf";
const norm = (s) => (s || "").normalize("NFC").toLocaleLowerCase("vi").replace(/\s+/g, " ").trim();

export function initAgenda({ meetingId, documents, docStatus, uploadInto, onItems }) {
  const list = $("#prep-items");
  let items = [];
  let slots = [];
  let drag = null; // {id, parentId}
  const report = (err) => toast(t("error", { message: err.message }), "error");

  async function load() {
    try {
      const [data, slotList] = await Promise.all([
        api("GET", `/meetings/${meetingId}/items`),
        api("GET", `/meetings/${meetingId}/slots`).catch(() => []),
      ]);
      items = Array.isArray(data) ? data : items;
      slots = Array.isArray(slotList) ? slotList : [];
    } catch (err) { report(err); }
    render();
  }

  /** The list a dragged or moved item belongs to: the top level, or one item's sub-items. */
  const levelOf = (parentId) => (parentId ? (items.find((i) => i.id === parentId)?.sub_items || []) : items);

  async function move(id, parentId, position, focusSel) {
    try {
      items = await api("POST", `/items/${id}/move`, { parent_id: parentId, position });
      toast(t("saved"));
    } catch (err) { report(err); }
    render();
    const btn = focusSel && list.querySelector(`li[data-item-id="${id}"] > .item-row ${focusSel}`);
    if (btn && !btn.disabled) btn.focus();
  }

  // ---------------------------------------------------------------- drop targets
  /** Where a drop on `node` puts the dragged item: {parentId, position}, or null. */
  function dropTarget(node) {
    const li = node?.closest?.("#prep-items li[data-item-id]");
    if (!li || !drag) return null;
    const id = Number(li.dataset.itemId);
    const parentId = li.dataset.parentId ? Number(li.dataset.parentId) : null;
    if (drag.parentId === null) {
      // A top-level item is reordered among the top level (a sub-item's row stands for its parent).
      const top = parentId ? parentId : id;
      const position = items.findIndex((i) => i.id === top);
      return top === drag.id || position < 0 ? null : { li: list.querySelector(`li[data-item-id="${top}"]`), parentId: null, position };
    }
    if (parentId) { // onto a sub-item: take its place
      if (id === drag.id) return null;
      return { li, parentId, position: levelOf(parentId).findIndex((s) => s.id === id) };
    }
    // onto a top-level item: at the end of its sub-items
    if (id === drag.parentId && levelOf(id).at(-1)?.id === drag.id) return null;
    return { li, parentId: id, position: levelOf(id).filter((s) => s.id !== drag.id).length };
  }
  const clearMarks = () => list.querySelectorAll(".drop-target").forEach((n) => n.classList.remove("drop-target"));
  function drop(target) {
    clearMarks();
    const d = drag;
    drag = null;
    if (d && target) move(d.id, target.parentId, target.position);
  }
  list.addEventListener("dragstart", (e) => {
    const li = e.target.closest?.("li[data-item-id]");
    if (!li) return;
    drag = { id: Number(li.dataset.itemId), parentId: li.dataset.parentId ? Number(li.dataset.parentId) : null };
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", li.dataset.itemId);
    e.stopPropagation();
  });
  list.addEventListener("dragover", (e) => {
    const target = dropTarget(e.target);
    if (!target) return;
    e.preventDefault();
    clearMarks();
    target.li.classList.add("drop-target");
  });
  list.addEventListener("dragleave", (e) => e.target.classList?.remove("drop-target"));
  list.addEventListener("drop", (e) => { e.preventDefault(); drop(dropTarget(e.target)); });
  list.addEventListener("dragend", () => { clearMarks(); drag = null; });

  // Touch and pen: HTML drag and drop does not start from a finger on most tablets.
  function touchDrag(e, li) {
    if (e.pointerType === "mouse") return;
    e.preventDefault();
    drag = { id: Number(li.dataset.itemId), parentId: li.dataset.parentId ? Number(li.dataset.parentId) : null };
    li.classList.add("dragging");
    let target = null;
    const onMove = (ev) => {
      target = dropTarget(document.elementFromPoint(ev.clientX, ev.clientY));
      clearMarks();
      target?.li.classList.add("drop-target");
    };
    const onUp = (ev) => {
      document.removeEventListener("pointermove", onMove);
      document.removeEventListener("pointerup", onUp);
      document.removeEventListener("pointercancel", onUp);
      li.classList.remove("dragging");
      if (ev.type === "pointercancel") { clearMarks(); drag = null; return; }
      drop(target ?? dropTarget(document.elementFromPoint(ev.clientX, ev.clientY)));
    };
    document.addEventListener("pointermove", onMove);
    document.addEventListener("pointerup", onUp);
    document.addEventListener("pointercancel", onUp);
  }

  // ---------------------------------------------------------------- one row
  function titleOf(item, number) {
    const text = el("span", { class: "text", tabindex: "0", role: "button", title: ct("edit_hint"),
      "aria-label": `${ct("edit")}: ${item.title}` }, item.title);
    const edit = () => inlineEdit(text, item.title, {
      label: ct("item_title"),
      save: (value) => api("PATCH", `/items/${item.id}`, { title: value }),
      done: (value) => { item.title = value; render(); toast(t("saved")); onItems?.(items); },
    });
    text.addEventListener("click", edit);
    text.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === "F2") { e.preventDefault(); edit(); } });
    return { node: el("span", { class: "title" }, el("span", { class: "num" }, `${number}. `), text), edit };
  }

  function moveTo(item) {
    const others = items.filter((i) => i.id !== item.parent_id && i.id !== item.id);
    return el("select", { class: "move-to", "data-act": "move-to", "aria-label": `${ct("move_to")}: ${item.title}`,
      onchange: (e) => {
        const to = e.target.value;
        if (to === "") return;
        const parentId = to === "top" ? null : Number(to);
        move(item.id, parentId, levelOf(parentId).length);
      } },
    el("option", { value: "" }, ct("move_to")),
    el("option", { value: "top" }, ct("move_to_top")),
    others.map((o) => el("option", { value: o.id }, `${items.indexOf(o) + 1}. ${o.title}`)));
  }

  function slotList(item) {
    const mine = slots.filter((s) => s.agenda_item_id === item.id);
    const docs = documents().filter((d) => d.item_id === item.id);
    const rows = mine.map((slot) => {
      const doc = docs.find((d) => norm(d.title) === norm(slot.title));
      if (doc) {
        return el("li", { class: "slot filled", dataset: { slotId: slot.id, docId: doc.id } },
          el("span", { class: "slot-title" }, `✓ ${slot.title}`), docStatus(doc));
      }
      const file = el("input", { type: "file", class: "sr-only", id: `slot-file-${slot.id}`,
        accept: ACCEPT, onchange: (e) => { uploadInto(item, slot, e.target.files); e.target.value = ""; } });
      return el("li", { class: "slot empty", dataset: { slotId: slot.id } },
        el("span", { class: "slot-title" }, ct("slot_waiting", { title: slot.title })),
        el("label", { class: "button secondary small", for: file.id }, ct("slot_upload")), file,
        el("button", { type: "button", class: "secondary icon small", "data-act": "delete-slot",
          "aria-label": `${t("delete")}: ${slot.title}`, onclick: async () => {
            try { await api("DELETE", `/slots/${slot.id}`); } catch (err) { report(err); }
            load();
          } }, "✕"));
    });
    const add = el("button", { type: "button", class: "link add-slot", "data-act": "add-slot" }, ct("slot_add"));
    add.addEventListener("click", () => inlineEdit(add, "", {
      label: ct("slot_add"),
      save: async (value) => { if (value.trim()) await api("POST", `/items/${item.id}/slots`, { title: value }); },
      done: () => load(),
    }));
    return el("ul", { class: "slots", "aria-label": ct("slots_of", { title: item.title }) }, rows, el("li", {}, add));
  }

  function row(item, idx, siblings, number) {
    const sub = Boolean(item.parent_id);
    const { node: title, edit } = titleOf(item, number);
    const handle = el("span", { class: "drag", "aria-hidden": "true", title: ct("drag_hint") }, "⠿");
    const li = el("li", { draggable: "true", dataset: { itemId: item.id, ...(sub ? { parentId: item.parent_id } : {}) },
      class: sub ? "sub-item" : "top-item" },
    el("div", { class: "row item-row" }, handle, title,
      el("button", { type: "button", class: "secondary icon", "data-act": "up", "aria-label": `${t("move_up")}: ${item.title}`,
        disabled: idx === 0, onclick: () => move(item.id, item.parent_id || null, idx - 1, "[data-act=up]") }, "↑"),
      el("button", { type: "button", class: "secondary icon", "data-act": "down", "aria-label": `${t("move_down")}: ${item.title}`,
        disabled: idx === siblings.length - 1, onclick: () => move(item.id, item.parent_id || null, idx + 1, "[data-act=down]") }, "↓"),
      sub ? moveTo(item) : null,
      el("button", { type: "button", class: "secondary icon", "data-act": "edit", "aria-label": `${ct("edit")}: ${item.title}`,
        onclick: edit }, "✎"),
      el("button", { type: "button", class: "danger icon", "data-act": "delete", "aria-label": `${t("delete")}: ${item.title}`,
        onclick: () => deleteItem(item) }, "✕")),
    slotList(item));
    handle.addEventListener("pointerdown", (e) => touchDrag(e, li));
    if (!sub) {
      const subs = item.sub_items || [];
      li.append(el("ol", { class: "sub-items" }, subs.map((s, j) => row(s, j, subs, `${number}.${j + 1}`))));
      li.append(addSub(item));
    }
    return li;
  }

  function addSub(item) {
    const add = el("button", { type: "button", class: "link add-sub", "data-act": "add-sub" }, ct("sub_add"));
    add.addEventListener("click", () => inlineEdit(add, "", {
      label: ct("sub_add"),
      save: async (value) => { if (value.trim()) await api("POST", `/meetings/${meetingId}/items`, { title: value, parent_id: item.id }); },
      done: () => load(),
    }));
    return add;
  }

  async function deleteItem(item) {
    if (!window.confirm(t("confirm_delete", { name: item.title }))) return;
    try { await api("DELETE", `/items/${item.id}`); } catch (err) { report(err); }
    load();
  }

  function render() {
    // An open editor is not thrown away by a re-render (typing is never lost).
    if (list.querySelector(".inline-edit:focus")) return;
    fill(list, items.map((item, idx) => row(item, idx, items, idx + 1)));
    onItems?.(items);
  }

  return { load, render, get items() { return items; }, get slots() { return slots; } };
}
