// Preparing a meeting: details, agenda (drag to reorder), document uploads (drag and
// drop, progress, clear errors), participants and roles, publish.
import { api, upload } from "../core/api.js";
import { $, el, fill, readJSON, t, toast } from "../core/dom.js";
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
$("#publish-meeting").addEventListener("click", async () => {
  try {
    const m = await api("POST", `/meetings/${meetingId}/status`, { status: "scheduled" });
    $("#m-status-text").textContent = m.status;
    $("#publish-meeting").hidden = true;
  } catch (err) { report(err); }
});

// ------------------------------------------------------------------ agenda, drag to reorder
async function loadItems() {
  try {
    const data = await api("GET", `/meetings/${meetingId}/items`);
    items = Array.isArray(data) ? data : data.items || items;
  } catch (err) { report(err); }
  renderItems();
}

async function saveOrder(ids) {
  try {
    await api("POST", `/meetings/${meetingId}/items/order`, { order: ids });
  } catch (err) { report(err); }
  await loadItems();
}

function renderItems() {
  const list = $("#prep-items");
  let dragged = null;
  fill(list, items.map((item, idx) => el("li", {
    draggable: "true", dataset: { itemId: item.id },
    ondragstart: (e) => { dragged = item.id; e.dataTransfer.effectAllowed = "move"; },
    ondragover: (e) => e.preventDefault(),
    ondrop: (e) => {
      e.preventDefault();
      const ids = items.map((i) => i.id).filter((id) => id !== dragged);
      ids.splice(ids.indexOf(item.id) + (idx > items.findIndex((i) => i.id === dragged) ? 1 : 0), 0, dragged);
      saveOrder(ids);
    },
  }, el("div", { class: "row" },
    el("span", { class: "drag", "aria-hidden": "true" }, "⠿"),
    el("span", { class: "title" }, `${idx + 1}. ${item.title}`),
    el("button", { type: "button", class: "secondary", "aria-label": `${t("move_up")}: ${item.title}`, disabled: idx === 0,
      onclick: () => { const ids = items.map((i) => i.id); ids.splice(idx - 1, 0, ids.splice(idx, 1)[0]); saveOrder(ids); } }, "↑"),
    el("button", { type: "button", class: "secondary", "aria-label": `${t("move_down")}: ${item.title}`, disabled: idx === items.length - 1,
      onclick: () => { const ids = items.map((i) => i.id); ids.splice(idx + 1, 0, ids.splice(idx, 1)[0]); saveOrder(ids); } }, "↓")))));
  fill($("#doc-item"), el("option", { value: "" }, "—"), items.map((i) => el("option", { value: i.id }, i.title)));
}
$("#item-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", `/meetings/${meetingId}/items`, { title: $("#item-title").value.trim() });
    $("#item-title").value = "";
    await loadItems();
  } catch (err) { report(err); }
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

renderItems();
renderDocs();
loadParticipants();
