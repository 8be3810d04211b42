// Preparing a meeting: details, agenda (drag to reorder), document uploads (drag and
// drop, progress, clear errors), participants and roles, publish.
import { api, upload } from "../core/api.js";
import { $, el, fill, readJSON, t, toast } from "../core/dom.js";
import { ct } from "./strings.js";
import { formatNumber, formatPercent } from "../core/format.js";

const boot = readJSON("boot");
const meetingId = boot.meeting.id;
let items = boot.items;
let documents = boot.documents;

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

// ------------------------------------------------------------------ agenda: reorder, add, edit, delete
async function loadItems() {
  try {
    const data = await api("GET", `/meetings/${meetingId}/items`);
    items = Array.isArray(data) ? data : data.items || items;
  } catch (err) { report(err); }
  renderItems();
}

/** Top-level items of the agenda (the REST list nests sub-items; the boot list is flat). */
const topLevel = () => items.filter((i) => !i.parent_id);

async function saveOrder(ids) {
  try {
    items = await api("POST", `/meetings/${meetingId}/items/order`, { parent_id: null, ids });
    toast(t("saved"));
  } catch (err) { report(err); }
  await loadItems();
}

/** Move the item at `from` to `to` and save; `focusId` keeps keyboard focus on the moved item's button. */
function move(from, to, focusSel) {
  const ids = topLevel().map((i) => i.id);
  if (to < 0 || to >= ids.length) return;
  const [id] = ids.splice(from, 1);
  ids.splice(to, 0, id);
  saveOrder(ids).then(() => {
    const btn = document.querySelector(`#prep-items li[data-item-id="${id}"] ${focusSel}`);
    if (btn && !btn.disabled) btn.focus();
  });
}

async function editItem(item) {
  const title = window.prompt(ct("item_title"), item.title);
  if (title === null || !title.trim() || title.trim() === item.title) return;
  try {
    await api("PATCH", `/items/${item.id}`, { title: title.trim() });
    toast(t("saved"));
  } catch (err) { report(err); }
  await loadItems();
}

async function deleteItem(item) {
  if (!window.confirm(t("confirm_delete", { name: item.title }))) return;
  try { await api("DELETE", `/items/${item.id}`); } catch (err) { report(err); }
  await loadItems();
}

function renderItems() {
  const list = $("#prep-items");
  const top = topLevel();
  let dragged = null;
  fill(list, top.map((item, idx) => el("li", {
    draggable: "true", dataset: { itemId: item.id },
    ondragstart: (e) => { dragged = idx; e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", String(item.id)); },
    ondragover: (e) => { e.preventDefault(); e.currentTarget.classList.add("drop-target"); },
    ondragleave: (e) => e.currentTarget.classList.remove("drop-target"),
    ondrop: (e) => {
      e.preventDefault();
      e.currentTarget.classList.remove("drop-target");
      if (dragged !== null && dragged !== idx) move(dragged, idx, ".drag");
      dragged = null;
    },
  }, el("div", { class: "row item-row" },
    el("span", { class: "drag", "aria-hidden": "true" }, "⠿"),
    el("span", { class: "title" }, `${idx + 1}. ${item.title}`),
    el("button", { type: "button", class: "secondary icon", "data-act": "up", "aria-label": `${t("move_up")}: ${item.title}`,
      disabled: idx === 0, onclick: () => move(idx, idx - 1, "[data-act=up]") }, "↑"),
    el("button", { type: "button", class: "secondary icon", "data-act": "down", "aria-label": `${t("move_down")}: ${item.title}`,
      disabled: idx === top.length - 1, onclick: () => move(idx, idx + 1, "[data-act=down]") }, "↓"),
    el("button", { type: "button", class: "secondary icon", "data-act": "edit", "aria-label": `${ct("edit")}: ${item.title}`,
      onclick: () => editItem(item) }, "✎"),
    el("button", { type: "button", class: "danger icon", "data-act": "delete", "aria-label": `${t("delete")}: ${item.title}`,
      onclick: () => deleteItem(item) }, "✕")),
  (item.sub_items || []).length ? el("ol", { class: "sub-items" }, item.sub_items.map((s) => el("li", {}, s.title))) : null)));
  const flat = top.flatMap((i) => [i, ...(i.sub_items || [])]);
  fill($("#doc-item"), el("option", { value: "" }, "—"), flat.map((i) => el("option", { value: i.id }, i.title)));
}
$("#item-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", `/meetings/${meetingId}/items`, { title: $("#item-title").value.trim() });
    $("#item-title").value = "";
  } catch (err) { report(err); }
  await loadItems();
});

// ------------------------------------------------------------------ documents
function renderDocs() {
  fill($("#doc-rows"), documents.map((d) => el("tr", { dataset: { docId: d.id } },
    el("td", {}, d.title), el("td", {}, formatNumber(d.pages)),
    el("td", {}, d.published ? t("published") : t("not_published")),
    el("td", {}, d.published ? null : el("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await api("PATCH", `/documents/${d.id}`, { published: true });
        d.published = true;
        renderDocs();
      } catch (err) { report(err); }
    } }, t("publish"))))));
}

function uploadFiles(files) {
  for (const file of files) {
    const row = el("li", { class: "upload" }, el("span", { class: "name" }, file.name),
      el("progress", { max: "1", value: "0", "aria-label": file.name }), el("span", { class: "msg" }));
    $("#uploads").append(row);
    const msg = row.querySelector(".msg");
    // Refused before sending: the server would refuse it too, and this is quicker and clearer.
    if (!/\.pdf$/i.test(file.name) && file.type !== "application/pdf") {
      row.classList.add("failed");
      msg.textContent = t("not_pdf", { name: file.name });
      msg.setAttribute("role", "alert");
      continue;
    }
    const form = new FormData();
    form.append("file", file);
    form.append("title", file.name.replace(/\.pdf$/i, ""));
    if ($("#doc-item").value) form.append("agenda_item_id", $("#doc-item").value);
    upload(`/meetings/${meetingId}/documents`, form, (f) => {
      row.querySelector("progress").value = f;
      msg.textContent = t("upload_progress", { name: file.name, percent: formatPercent(f) });
    }).then((doc) => {
      row.classList.add("done");
      msg.textContent = t("upload_done", { name: file.name });
      documents.push({ id: doc.id, title: doc.title, item_id: doc.agenda_item_id, pages: doc.pages, published: doc.published });
      renderDocs();
    }).catch((err) => {
      row.classList.add("failed");
      msg.textContent = t("upload_failed", { name: file.name, message: err.message });
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
$("#add-participant").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", `/meetings/${meetingId}/participants`, { user_id: Number($("#pa-user").value), role: $("#pa-role").value });
  } catch (err) { report(err); }
  loadParticipants();
});

renderStatus();
loadItems();
renderDocs();
loadParticipants();
