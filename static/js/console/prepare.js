// Preparing a meeting: details, agenda (agenda_board.js: in-place titles, sub-items moved by
// drag and drop, buttons or "move to item"; document slots), document uploads (drag and drop,
// progress, Office conversion, clear errors) with their live text-layer status (doc_status.js),
// participants and roles, publish; copy the meeting or save it as a template (reuse.js).
import { api, upload } from "../core/api.js";
import { $, el, fill, readJSON, t, toast } from "../core/dom.js";
import { formatNumber, formatPercent } from "../core/format.js";
import { LiveClient } from "../core/live.js";
import { initAgenda } from "./agenda_board.js";
import { docRow, statusBadge, watchDocuments } from "./doc_status.js";
import { initReuse } from "./reuse.js";
import { ct, hasString } from "./strings.js";

const boot = readJSON("boot");
const meetingId = boot.meeting.id;
const documents = boot.documents;

const report = (err) => toast(t("error", { message: err.message }), "error");

// ------------------------------------------------------------------ meeting
$("#meeting-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("PATCH", `/meetings/${meetingId}`, { title: $("#m-title").value.trim(), place: $("#m-place").value.trim() || null });
    toast(t("saved"));
  } catch (err) { report(err); }
});
// Status: only the moves the server allows from here (agenda/models.py MEETING_TRANSITIONS).
const NEXT = { draft: ["scheduled"], scheduled: ["draft", "in_progress"], in_progress: ["adjourned"],
  adjourned: ["in_progress", "closed"], closed: [] };
let status = boot.meeting.status;
function renderStatus() {
  $("#m-status-text").textContent = ct(`status_${status}`);
  $("#m-status-text").dataset.status = status;
  fill($("#status-actions"), NEXT[status].map((to) => el("button", {
    type: "button", class: to === "draft" || to === "closed" ? "secondary" : "", "data-to": to,
    onclick: async () => {
      if (to === "closed" && !window.confirm(ct("confirm_close"))) return;
      try {
        const m = await api("POST", `/meetings/${meetingId}/status`, { status: to });
        status = m.status;
        toast(t("saved"));
      } catch (err) { report(err); }
      renderStatus();
    } }, ct(`to_${to}`))));
}

// ------------------------------------------------------------------ agenda (agenda_board.js)
const state = { documents: documents.map(docRow) };
const live = new LiveClient(meetingId, { lastSeq: boot.meeting.last_seq });
const board = initAgenda({
  meetingId,
  documents: () => state.documents,
  docStatus: statusBadge,
  uploadInto: (item, slot, files) => uploadFiles(files, { itemId: item.id, title: slot.title }),
  onItems: (items) => {
    const flat = items.flatMap((i) => [i, ...(i.sub_items || [])]);
    const chosen = $("#doc-item").value;
    fill($("#doc-item"), el("option", { value: "" }, "—"),
      flat.map((i) => el("option", { value: i.id, selected: String(i.id) === chosen }, i.parent_id ? `— ${i.title}` : i.title)));
  },
});
const docs = watchDocuments(meetingId, live, state, () => { renderDocs(); board.render(); });
$("#item-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", `/meetings/${meetingId}/items`, { title: $("#item-title").value.trim() });
    $("#item-title").value = "";
  } catch (err) { report(err); }
  await board.load();
});

// ------------------------------------------------------------------ documents
function renderDocs() {
  fill($("#doc-rows"), state.documents.map((d) => el("tr", { dataset: { docId: d.id } },
    el("td", {}, d.title, d.source_url ? [" ", el("a", { class: "doc-source", href: d.source_url, download: "",
      title: d.source_filename || "" }, ct("download_source", { format: (d.source_format || "").toUpperCase() }))] : null),
    el("td", {}, formatNumber(d.pages)),
    el("td", {}, d.published ? t("published") : t("not_published")),
    el("td", {}, statusBadge(d)),
    el("td", {}, d.published ? null : el("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await api("PATCH", `/documents/${d.id}`, { published: true });
        d.published = true;
        renderDocs();
      } catch (err) { report(err); }
    } }, t("publish"))))));
}

const OFFICE = /\.(docx|doc|odt|rtf|xlsx|xls|ods|pptx|ppt|odp)$/i;
/** The upload error in the secretariat's words (by its code, and for a failed conversion by its cause),
 * else the server's message. */
function uploadError(err) {
  const keys = [`upload_${err.code}_${err.details?.cause}`, `upload_${err.code}`];
  const key = keys.find((k) => hasString(k));
  return key ? ct(key) : err.message;
}

/** Upload files; into a slot, `into` = {itemId, title} names the item and the title the slot expects. */
function uploadFiles(files, into = null) {
  for (const file of files) {
    const row = el("li", { class: "upload" }, el("span", { class: "name" }, file.name),
      el("progress", { max: "1", value: "0", "aria-label": file.name }), el("span", { class: "msg" }));
    $("#uploads").append(row);
    const msg = row.querySelector(".msg");
    const office = OFFICE.test(file.name);
    // Refused before sending: the server would refuse it too, and this is quicker and clearer.
    if (!office && !/\.pdf$/i.test(file.name) && file.type !== "application/pdf") {
      row.classList.add("failed");
      msg.textContent = t("not_pdf", { name: file.name });
      msg.setAttribute("role", "alert");
      continue;
    }
    const form = new FormData();
    form.append("file", file);
    form.append("title", into?.title || file.name.replace(/\.[a-z0-9]+$/i, ""));
    const itemId = into?.itemId || $("#doc-item").value;
    if (itemId) form.append("agenda_item_id", itemId);
    upload(`/meetings/${meetingId}/documents`, form, (f) => {
      row.querySelector("progress").value = f;
      // All bytes sent: the server now converts an Office file (LibreOffice) before it answers.
      msg.textContent = f >= 1 && office ? ct("converting", { name: file.name })
        : t("upload_progress", { name: file.name, percent: formatPercent(f) });
      row.dataset.stage = f >= 1 && office ? "converting" : "sending";
    }).then((doc) => {
      row.classList.add("done");
      row.dataset.stage = "done";
      msg.textContent = t("upload_done", { name: file.name });
      state.documents = state.documents.filter((d) => d.id !== doc.id).concat(docRow(doc));
      renderDocs();
      board.render();
      docs.refresh();
    }).catch((err) => {
      row.classList.add("failed");
      row.dataset.stage = "failed";
      msg.textContent = t("upload_failed", { name: file.name, message: uploadError(err) });
      msg.setAttribute("role", "alert");
    });
  }
}
const zone = $("#dropzone");
zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); uploadFiles(e.dataTransfer.files); });
zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("#doc-file").click(); } });
$("#doc-file").addEventListener("change", (e) => { uploadFiles(e.target.files); e.target.value = ""; });

// ------------------------------------------------------------------ participants
async function loadParticipants() {
  try {
    const [parts, users] = await Promise.all([api("GET", `/meetings/${meetingId}/participants`), api("GET", "/users")]);
    const list = Array.isArray(parts) ? parts : parts.participants || [];
    const names = new Map(users.map((u) => [u.id, u.full_name]));
    fill($("#participants"), list.map((p) => el("tr", { dataset: { participantId: p.id } },
      el("td", {}, p.full_name || names.get(p.user_id) || p.user_id),
      el("td", {}, el("select", { "aria-label": t("role"), onchange: (e) => changeParticipant(p, { role: e.target.value }) },
        ["delegate", "chair", "secretary", "observer"].map((r) => el("option", { value: r, selected: r === p.role }, t(`role_${r}`))))),
      el("td", {}, el("input", { type: "checkbox", "aria-label": t("can_vote"), checked: p.can_vote,
        onchange: (e) => changeParticipant(p, { can_vote: e.target.checked }) })),
      el("td", {}, el("button", { type: "button", class: "danger", onclick: () => removeParticipant(p) }, t("delete"))))));
    const taken = new Set(list.map((p) => p.user_id));
    fill($("#pa-user"), users.filter((u) => !taken.has(u.id)).map((u) => el("option", { value: u.id }, u.full_name)));
  } catch (err) { report(err); }
}
async function changeParticipant(p, change) {
  try { await api("PATCH", `/meetings/${meetingId}/participants/${p.id}`, change); } catch (err) { report(err); }
  loadParticipants();
}
async function removeParticipant(p) {
  if (!window.confirm(t("confirm_delete", { name: p.full_name || "" }))) return;
  try { await api("DELETE", `/meetings/${meetingId}/participants/${p.id}`); } catch (err) { report(err); }
  loadParticipants();
}
// The import panel (console/_import.html) tells when it added participants.
document.addEventListener("participants:refresh", () => loadParticipants());
$("#add-participant").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", `/meetings/${meetingId}/participants`, { user_id: Number($("#pa-user").value), role: $("#pa-role").value });
  } catch (err) { report(err); }
  loadParticipants();
});

renderStatus();
board.load();
renderDocs();
docs.refresh();
loadParticipants();
initReuse(meetingId);
