// Reusing a meeting from its preparation page: copy it to a new date, or save it as a template
// of its body (optionally the body's regular one, for "Phiên họp thường kỳ tháng …").
// Who may: the body's secretariat or an administrator; a refusal is shown beside the form.
import { api } from "../core/api.js";
import { $ } from "../core/dom.js";
import { ct } from "./strings.js";

function say(node, text, kind) {
  node.hidden = false;
  node.textContent = text;
  node.className = kind === "error" ? "error-box" : "ok-box";
  if (kind === "error") node.setAttribute("role", "alert");
}

export function initReuse(meetingId) {
  const copyForm = $("#copy-form");
  const tplForm = $("#template-form");
  if (!copyForm || !tplForm) return;
  copyForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("#copy-result");
    const when = $("#copy-starts").value;
    if (!when) { say(out, ct("copy_need_date"), "error"); return; }
    try {
      const m = await api("POST", `/meetings/${meetingId}/copy`, { starts_at: new Date(when).toISOString() });
      say(out, ct("copy_done", { title: m.title }), "ok");
      out.append(" ", Object.assign(document.createElement("a"), { href: `/meetings/${m.id}/prepare`, textContent: ct("open_copy") }));
    } catch (err) { say(out, ct("save_failed", { message: err.message }), "error"); }
  });
  tplForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("#template-result");
    try {
      const tpl = await api("POST", `/meetings/${meetingId}/template`, {
        name: $("#template-name").value.trim(), regular: $("#template-regular").checked });
      say(out, ct(tpl.regular ? "template_saved_regular" : "template_saved", { name: tpl.name }), "ok");
    } catch (err) { say(out, ct("save_failed", { message: err.message }), "error"); }
  });
}
