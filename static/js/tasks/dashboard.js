// The chair's dashboard: counts by status and unit, the overdue list, the on-time rate, filters,
// exports (CSV, PDF); the office assigns new tasks here. Live: any "task.changed" of this body reloads.
import { api } from "../core/api.js";
import { $, el, fill } from "../core/dom.js";
import { STATUSES, date, onTaskChanged, taskRow } from "./common.js";
import { mountAssignForm } from "./assign.js";
import { boot, translatePage, tt } from "./strings.js";

translatePage();
const bodyId = boot.body_id;

const option = (value, text) => el("option", { value }, text);
$("#f-unit").append(...boot.units.map((u) => option(u.id, u.name)));
$("#f-status").append(...[...STATUSES, "overdue"].map((s) => option(s, tt(`st_${s}`))));
$("#f-meeting").append(...boot.meetings.map((m) => option(m.id, m.title)));

function query() {
  const params = new URLSearchParams();
  const form = new FormData($("#filters"));
  for (const [key, value] of form.entries()) {
    if (!value) continue;
    // A day in Hà Nội starts at 00:00 +07:00.
    params.set(key, key === "from" || key === "to" ? `${value}T00:00:00+07:00` : value);
  }
  return params.toString();
}

function figure(label, value, kind = "") {
  return el("div", { class: `figure ${kind}`, "data-testid": `fig-${kind || label}` },
    el("span", { class: "value" }, value), el("span", { class: "label" }, label));
}

function show(dash, tasks) {
  const rate = dash.on_time_rate === null ? "—" : `${(dash.on_time_rate * 100).toFixed(1).replace(".", boot.locale === "en" ? "." : ",")}%`;
  fill($("#figures"), figure(tt("fig_total"), dash.total, "total"),
    ...STATUSES.map((s) => figure(tt(`st_${s}`), dash.by_status[s], s)),
    figure(tt("fig_overdue"), dash.overdue_count, "overdue"), figure(tt("on_time_rate"), rate, "rate"));
  fill($("#by-unit"), dash.by_unit.map((u) => el("tr", {},
    el("td", {}, u.unit_name || tt("individual")), el("td", {}, u.total),
    el("td", {}, u.by_status.assigned + u.by_status.in_progress + u.by_status.returned),
    el("td", {}, u.by_status.submitted), el("td", {}, u.by_status.accepted),
    el("td", { class: u.overdue ? "late" : "" }, u.overdue))));
  const now = Date.now();
  fill($("#overdue"), dash.overdue.length ? dash.overdue.map((t) => el("li", {},
    el("a", { href: `/tasks/${t.id}` }, t.title), " · ", t.lead_unit_name || t.assignee_name || "",
    el("span", { class: "late" }, ` · ${date(t.deadline)} (${tt("days_late", { n: Math.max(1, Math.floor((now - new Date(t.deadline)) / 86400000)) })})`)))
    : el("li", { class: "muted" }, tt("no_overdue")));
  fill($("#all"), tasks.length ? tasks.map(taskRow) : el("tr", {}, el("td", { colspan: 5, class: "muted" }, tt("none"))));
}

async function load() {
  const q = query();
  $("#export-csv").href = `/api/v1/bodies/${bodyId}/tasks/export.csv?${q}`;
  $("#export-pdf").href = `/api/v1/bodies/${bodyId}/tasks/report.pdf?${q}`;
  try {
    const [dash, tasks] = await Promise.all([api("GET", `/bodies/${bodyId}/tasks/dashboard?${q}`),
      api("GET", `/bodies/${bodyId}/tasks?${q}`)]);
    show(dash, tasks);
  } catch (err) {
    fill($("#figures"), el("p", { class: "error-box", role: "alert" }, tt("failed", { message: err.message })));
  }
}

$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });

if (boot.office) {
  // "Tạo nhiệm vụ": a task given by hand (source manual), the same form as under a conclusion (assign.js)
  $("#new-task").hidden = false;
  mountAssignForm($("#new-task-box"), {
    bodyId, prefix: "n", formId: "new-form", statusId: "new-status", okKey: "sent", onCreated: load,
  });
}

onTaskChanged((data) => { if (data.body_id === bodyId) load(); });
load();
