// Edit a short text in place: an input replaces the text; Enter (or leaving the field) saves,
// Esc cancels. A refusal from the server is shown beside the field, which keeps what was typed.
import { el } from "../core/dom.js";
import { ct } from "./strings.js";

/**
 * Replace `node` (hidden meanwhile) by an input holding `value`. `save(text)` returns a promise;
 * on success `done()` runs, on failure the error's message is shown inline and the input stays.
 */
export function inlineEdit(node, value, { label, save, done = () => {}, maxLength = 500 }) {
  if (node.hidden) return null; // already editing
  const input = el("input", { class: "inline-edit", value, maxlength: String(maxLength), "aria-label": label });
  const error = el("span", { class: "inline-error", role: "alert", hidden: true });
  const box = el("span", { class: "inline-box" }, input, error);
  let busy = false;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    box.remove();
    node.hidden = false;
  };
  const commit = async () => {
    if (busy || closed) return;
    const text = input.value;
    if (text === value) { close(); node.focus?.(); return; }
    busy = true;
    input.setAttribute("aria-busy", "true");
    try {
      await save(text);
      close();
      done(text);
    } catch (err) {
      error.hidden = false;
      error.textContent = ct("save_failed", { message: err.message });
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } finally {
      busy = false;
      input.removeAttribute("aria-busy");
    }
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); commit(); }
    else if (e.key === "Escape") { e.preventDefault(); close(); node.focus?.(); }
    e.stopPropagation();
  });
  // Leaving the field saves, unless it was refused (then the message stays until Enter or Esc).
  input.addEventListener("blur", () => { if (error.hidden) commit(); });
  for (const type of ["pointerdown", "mousedown", "dragstart", "click"]) input.addEventListener(type, (e) => e.stopPropagation());
  node.hidden = true;
  node.after(box);
  input.focus();
  input.select();
  return input;
}
