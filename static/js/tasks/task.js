// One task: its facts, history, files and extension requests; the forms its viewer may use
// (report progress / done and ask for time: the assignees; accept, send back, decide: the office).
import { api } from "../core/api.js";
import { $, el, fill } from "../core/dom.js";
import { date, datetime, onTaskChanged, statusBadge } from "./common.js";
import { boot, translatePage, tt } from "./strings.js";

translatePage();
const id = boot.task_id;
const say = (text, error = false) => {
  const box = $("#action-status");
  box.textContent = text;
  box.className = error ? "error-box" : "";
};

function info(task) {
  const rows = [
    ["source", task.source_label || tt(`src_${task.source_kind}`)],
    ["lead_unit", task.lead_unit_name || "—"],
    ["support_units", (task.support_unit_names || []).join(", ") || "—"],
    ["assignee", task.assignee_name || "—"],
    ["deadline", datetime(task.deadline)],
    ["original_deadline", datetime(task.original_deadline)],
    ["priority", tt(`pr_${task.priority}`)],
    ["progress", `${task.progress}%`],
  ];
  const dl = $("#task-info");
  fill(dl, ...rows.flatMap(([k, v]) => [el("dt", {}, tt(k)), el("dd", {}, v)]),
    el("dt", {}, tt("status")), el("dd", { "data-testid": "task-status" }, statusBadge(task)));
  $("#task-description").textContent = task.description || "";
}

function history(task) {
  fill($("#history"), task.entries.map((e) => el("li", {},
    el("strong", {}, tt(`k_${e.kind}`)), " · ", el("span", { class: "muted" }, `${datetime(e.at)} · ${e.author_name || ""}`),
    e.progress !== null && e.progress !== undefined ? ` · ${e.progress}%` : null,
    e.text ? el("p", {}, e.text) : null)));
  fill($("#files"), task.files.length ? task.files.map((f) => el("li", {},
    el("a", { href: `/api/v1/tasks/${task.id}/files/${f.id}`, download: f.filename }, f.filename),
    el("span", { class: "muted" }, ` · ${datetime(f.created_at)}`))) : el("li", { class: "muted" }, "—"));
  fill($("#extensions"), task.extensions.length ? task.extensions.map((x) => el("li", {},
    tt("ext_line", { date: date(x.new_deadline), reason: x.reason, status: tt(`ext_${x.status}`) }),
    x.answer ? el("div", { class: "muted" }, x.answer) : null,
    x.status === "pending" && task.can.manage ? el("span", { class: "row" },
      el("button", { type: "button", onclick: () => decide(x.id, true) }, tt("approve")),
      el("button", { type: "button", class: "secondary", onclick: () => decide(x.id, false) }, tt("refuse"))) : null))
    : el("li", { class: "muted" }, "—"));
}

function forms(task) {
  const open = ["assigned", "in_progress", "returned"].includes(task.status);
  $("#report-form").hidden = !(task.can.report && open);
  $("#send-done").hidden = !task.can.submit;
  $("#extension-form").hidden = !(task.can.submit && task.status !== "accepted");
  $("#review-form").hidden = !(task.can.manage && task.status === "submitted");
  $("#actions").hidden = $("#report-form").hidden && $("#extension-form").hidden && $("#review-form").hidden;
}

async function load() {
  const task = await api("GET", `/tasks/${id}`);
  $("#task-title").textContent = task.title;
  info(task);
  history(task);
  forms(task);
}

async function act(run) {
  try {
    await run();
    say(tt("sent"));
    await load();
  } catch (err) {
    say(tt("failed", { message: err.message }), true);
  }
}

function reportForm() {
  const form = new FormData();
  form.append("text", $("#report-text").value);
  for (const f of $("#report-files").files) form.append("file", f);
  return form;
}

$("#report-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = reportForm();
  const pct = $("#report-progress").value;
  if (pct !== "") form.append("progress", pct);
  act(() => api("POST", `/tasks/${id}/progress`, form)).then(() => $("#report-form").reset());
});
$("#send-done").addEventListener("click", () => act(() => api("POST", `/tasks/${id}/submit`, reportForm())));
$("#extension-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  // The new deadline is the end of the chosen day in Hà Nội (17:00 UTC).
  const day = $("#ext-date").value;
  act(() => api("POST", `/tasks/${id}/extensions`,
    { new_deadline: `${day}T23:59:00+07:00`, reason: $("#ext-reason").value }));
});
$("#accept").addEventListener("click", () => act(() => api("POST", `/tasks/${id}/accept`, { text: $("#review-text").value || null })));
$("#send-back").addEventListener("click", () => act(() => api("POST", `/tasks/${id}/return`, { reason: $("#review-text").value })));

function decide(extension, approve) {
  const answer = approve ? null : window.prompt(tt("reason")) || "";
  act(() => api("POST", `/task-extensions/${extension}/decision`, { approve, answer }));
}

onTaskChanged((data) => { if (data.task_id === id) load().then(() => say(tt("updated"))); });
load().catch((err) => say(tt("failed", { message: err.message }), true));
