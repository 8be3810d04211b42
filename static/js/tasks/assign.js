// "Giao nhiệm vụ": the office's form that assigns a follow-up task, shared by the conclusion notice page
// (a task from a numbered conclusion), the opinion form page (from its result) and the tasks dashboard
// (a task given by hand). It POSTs /api/v1/bodies/<id>/tasks; the server's policy decides (only the body's
// office may), so a refusal is shown inline next to the form and what was typed stays where it was.
import { api } from "../core/api.js";
import { el, fill } from "../core/dom.js";
import { tt } from "./strings.js";

const PRIORITIES = ["normal", "high", "urgent", "low"];
const cache = new Map(); // body id → Promise of {units, members}: one fetch per page, however many forms

/** `text` cut to about `limit` characters at a word boundary, with "…" when cut (a task's title from a conclusion). */
export function shorten(text, limit = 120) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  if (flat.length <= limit) return flat;
  const cut = flat.slice(0, limit - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, "")}…`;
}

function people(bodyId) {
  if (!cache.has(bodyId)) {
    cache.set(bodyId, Promise.all([
      api("GET", `/bodies/${bodyId}/units`).catch(() => []),
      api("GET", `/bodies/${bodyId}/members`).catch(() => []),
    ]).then(([units, members]) => ({ units: units || [], members: members || [] })));
  }
  return cache.get(bodyId);
}

/** The server's refusal in the page's language when we know its code, else the server's own message. */
function refusal(err) {
  const known = err.code && tt(`err_${err.code}`);
  if (known && known !== `err_${err.code}`) return known;
  const fields = err.details && (err.details.json || err.details);
  const first = fields && typeof fields === "object" ? Object.entries(fields)[0] : null;
  const detail = first ? `${tt(first[0]) || first[0]}: ${[].concat(first[1]).join(" ")}` : "";
  return tt("failed", { message: detail || err.message });
}

const option = (value, text) => el("option", { value }, text);

/**
 * Mount the form into `container` and return it. `source`: {kind: "conclusion"|"opinion"|"manual", id};
 * `prefill`: {title, description}; `prefix` names the fields' ids (`${prefix}-title`, …); `onCreated(task)`
 * runs after a task is made; `okKey` is the string shown then. `units`/`members` spare the fetch.
 */
export async function mountAssignForm(container, {
  bodyId, source = { kind: "manual" }, prefill = {}, prefix = "as", formId, statusId, units, members,
  onCreated, okKey = "assigned_ok",
} = {}) {
  const id = (name) => `${prefix}-${name}`;
  const known = units && members ? { units, members } : await people(bodyId);
  const field = (name, label, control) => [el("label", { for: id(name) }, tt(label)), control];
  const title = el("input", { id: id("title"), name: "title", required: true, maxlength: 500 });
  title.value = prefill.title || "";
  const desc = el("textarea", { id: id("desc"), name: "description", rows: 3, maxlength: 20000 });
  desc.value = prefill.description || "";
  const lead = el("select", { id: id("lead"), name: "lead_unit_id" }, option("", tt("no_choice")),
    known.units.map((u) => option(u.id, u.name)));
  const support = el("select", { id: id("support"), name: "support_unit_ids", multiple: true, size: 4 },
    known.units.map((u) => option(u.id, u.name)));
  const person = el("select", { id: id("person"), name: "assignee_id" }, option("", tt("no_choice")),
    known.members.map((m) => option(m.user_id, m.full_name || m.username)));
  const deadline = el("input", { id: id("deadline"), name: "deadline", type: "date", required: true });
  const priority = el("select", { id: id("priority"), name: "priority" }, PRIORITIES.map((p) => option(p, tt(`pr_${p}`))));
  const submit = el("button", { type: "submit" }, tt("assign_task"));
  const status = el("p", { id: statusId || id("status"), class: "assign-status", role: "status", "aria-live": "polite" });
  const form = el("form", { id: formId || id("form"), class: "task-form assign-form", dataset: { sourceKind: source.kind } },
    field("title", "title", title), field("desc", "description", desc), field("lead", "lead_unit", lead),
    field("support", "support_units", support), field("person", "assignee_or", person),
    field("deadline", "deadline", deadline), field("priority", "priority", priority), submit, status);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!title.value.trim()) {
      status.textContent = tt("err_missing_title");
      status.classList.add("error");
      title.focus();
      return;
    }
    const leadId = lead.value ? Number(lead.value) : null;
    const body = {
      title: title.value, description: desc.value.trim() || null, lead_unit_id: leadId,
      assignee_id: person.value ? Number(person.value) : null,
      // the lead unit leads; it is not also one of its own supporters
      support_unit_ids: Array.from(support.selectedOptions, (o) => Number(o.value)).filter((u) => u !== leadId),
      // the whole last day counts, in Hà Nội's time
      deadline: `${deadline.value}T23:59:00+07:00`, priority: priority.value,
      source: source.kind === "manual" ? { kind: "manual" } : { kind: source.kind, id: source.id },
    };
    submit.disabled = true;
    status.classList.remove("error");
    status.setAttribute("role", "status");
    try {
      const task = await api("POST", `/bodies/${bodyId}/tasks`, body);
      form.reset();
      title.value = prefill.title || "";
      desc.value = prefill.description || "";
      status.textContent = tt(okKey);
      if (onCreated) onCreated(task);
    } catch (err) {
      // nothing typed is cleared: the office corrects the one field and sends again
      status.textContent = refusal(err);
      status.classList.add("error");
      status.setAttribute("role", "alert");
    } finally {
      submit.disabled = false;
    }
  });
  fill(container, form);
  return form;
}

/**
 * Under a source (a conclusion, an opinion result): the tasks already made from it, linked to their pages,
 * and the "Giao nhiệm vụ" button opening the form inline. `prefix` must be unique on the page.
 */
export function mountSourceTasks(container, { bodyId, source, prefill = {}, prefix }) {
  const count = el("span", { class: "muted source-task-count", "data-testid": "source-task-count" });
  const list = el("ul", { class: "plain source-tasks" });
  const slot = el("div", { class: "assign-slot", hidden: true });
  const toggle = el("button", { type: "button", class: "secondary assign-open", "aria-expanded": "false" }, tt("assign_task"));
  let mounted = false;

  async function refresh() {
    let tasks = [];
    try {
      tasks = await api("GET", `/bodies/${bodyId}/tasks?source_kind=${source.kind}&source_id=${source.id}`);
    } catch (err) {
      count.textContent = tt("failed", { message: err.message });
      return;
    }
    count.textContent = tt("tasks_made", { n: tasks.length });
    fill(list, tasks.map((t) => el("li", { dataset: { taskId: t.id } },
      el("a", { href: `/tasks/${t.id}` }, t.title), " · ", t.lead_unit_name || t.assignee_name || "",
      " · ", tt(`st_${t.status}`))));
  }

  toggle.addEventListener("click", async () => {
    slot.hidden = !slot.hidden;
    toggle.setAttribute("aria-expanded", String(!slot.hidden));
    if (!mounted && !slot.hidden) {
      mounted = true;
      await mountAssignForm(slot, { bodyId, source, prefill, prefix, onCreated: refresh });
    }
  });
  fill(container, el("div", { class: "source-tasks-head" }, el("strong", {}, tt("tasks_of_source")), " ", count, " ", toggle),
    list, slot);
  container.classList.add("source-tasks-box");
  refresh();
  return { refresh };
}
