// "Đơn vị" (/bodies/<id>/units): the body's office creates its units, renames them in place, deactivates
// (after a confirmation on the page) or reactivates them, and staffs them (members.js). Every change is a
// REST call; after each one the list is read back, so the page shows what the database holds. A refused
// change leaves what was typed where it was and says why next to it.
import { api } from "../core/api.js";
import { $, el, readJSON, t, toast } from "../core/dom.js";
import { explain, say } from "./errors.js";
import { membersRow } from "./members.js";

const boot = readJSON("boot");
const bodyId = boot.body_id;
const table = $("#units");
// editing / confirming: the one unit in edit mode / awaiting the deactivation's confirmation.
// notes: a message to show in a unit's members panel after the list was re-rendered.
const state = { units: boot.units, people: [], editing: null, confirming: null, open: new Set(), notes: new Map() };
const nodes = new Map(); // unit id → its <tbody>
// The edit row of state.editing and its message, kept across re-renders: what was typed there survives
// a reload of the list (another unit's change, a member added below it).
let kept = null;

async function refresh(note = null, unitId = null) {
  if (note && unitId !== null) state.notes.set(unitId, note);
  try {
    state.units = await api("GET", `/bodies/${bodyId}/units?include_inactive=true`);
    $("#units-status").hidden = true;
  } catch (err) {
    $("#units-status").textContent = t("load_failed", { message: explain(err) });
    $("#units-status").hidden = false;
  }
  render();
}

function render() {
  for (const old of table.querySelectorAll("tbody")) old.remove();
  nodes.clear();
  for (const u of state.units) nodes.set(u.id, unitBody(u));
  table.append(...nodes.values());
  $("#no-units").hidden = state.units.length > 0;
}

/** Draw one unit again (after a mode change) and focus `focus` inside it. */
function redraw(u, focus = null) {
  const node = unitBody(u);
  nodes.get(u.id)?.replaceWith(node);
  nodes.set(u.id, node);
  if (focus) node.querySelector(focus)?.focus();
}

const statusBadge = (u) => el("span", { class: `badge ${u.active ? "open" : "done"}` }, t(u.active ? "active" : "inactive"));

function membersToggle(u) {
  const open = state.open.has(u.id);
  return el("button", {
    type: "button", class: "secondary members-toggle", "aria-expanded": String(open),
    onclick: () => {
      if (open) state.open.delete(u.id); else state.open.add(u.id);
      redraw(u, ".members-toggle");
    },
  }, t("members_of", { n: u.members.length }));
}

function viewRow(u) {
  const edit = el("button", { type: "button", class: "secondary edit", onclick: () => {
    const before = state.units.find((x) => x.id === state.editing);
    state.editing = u.id;
    state.confirming = null;
    kept = null;
    if (before && before.id !== u.id) redraw(before);
    redraw(u, "input[name=name]");
  } }, t("edit"));
  const toggle = u.active
    ? el("button", { type: "button", class: "danger deactivate", onclick: () => {
      const before = state.units.find((x) => x.id === state.confirming);
      state.confirming = u.id;
      if (before && before.id !== u.id) redraw(before);
      redraw(u, ".unit-confirm button.danger");
    } }, t("deactivate"))
    : el("button", { type: "button", class: "secondary reactivate", onclick: (ev) => change(u, { active: true },
      ev.currentTarget.closest("tbody").querySelector(".unit-msg p"), t("reactivated", { name: u.name })) },
    t("reactivate"));
  return el("tr", { class: "unit-row" }, el("th", { scope: "row", class: "unit-name" }, u.name),
    el("td", { class: "unit-short" }, u.short_name || ""), el("td", { class: "unit-email" }, u.email || ""),
    el("td", {}, statusBadge(u)), el("td", {}, membersToggle(u)), el("td", { class: "actions" }, edit, toggle));
}

/** PATCH the unit; on success leave edit mode and read the list back, else say why in `msg`. */
async function change(u, patch, msg, okText, typedName = "") {
  try {
    await api("PATCH", `/units/${u.id}`, patch);
  } catch (err) {
    say(msg, explain(err, { name: typedName }));
    return false;
  }
  if (state.editing === u.id) {
    state.editing = null;
    kept = null;
  }
  toast(okText);
  await refresh();
  return true;
}

function editRow(u, msg) {
  const input = (name, value, attrs) => el("input", { name, value: value ?? "", "aria-label": t(`field_${name}`),
    autocomplete: "off", ...attrs });
  const name = input("name", u.name, { maxlength: 300, required: true });
  const short = input("short_name", u.short_name, { maxlength: 50 });
  const email = input("email", u.email, { type: "email", maxlength: 320 });
  const cancel = () => {
    state.editing = null;
    kept = null;
    redraw(u, "button.edit");
  };
  const save = async () => {
    const typed = name.value.trim();
    if (!typed) {
      say(msg, t("err_name_required"));
      name.focus();
      return;
    }
    const patch = {};
    if (typed !== u.name) patch.name = typed;
    if ((short.value.trim() || null) !== (u.short_name || null)) patch.short_name = short.value.trim() || null;
    if ((email.value.trim() || null) !== (u.email || null)) patch.email = email.value.trim() || null;
    if (!Object.keys(patch).length) return cancel();
    if (!await change(u, patch, msg, t("saved"), typed)) name.focus();
  };
  const keys = (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); save(); }
    if (ev.key === "Escape") cancel();
  };
  for (const field of [name, short, email]) field.addEventListener("keydown", keys);
  return el("tr", { class: "unit-row editing" }, el("th", { scope: "row" }, name), el("td", {}, short),
    el("td", {}, email), el("td", {}, statusBadge(u)), el("td", {}, String(u.members.length)),
    el("td", { class: "actions" }, el("button", { type: "button", class: "save", onclick: save }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: cancel }, t("cancel"))));
}

function confirmRow(u, msg) {
  const yes = async () => {
    try {
      await api("DELETE", `/units/${u.id}`);
    } catch (err) {
      say(msg, explain(err));
      return;
    }
    state.confirming = null;
    toast(t("deactivated", { name: u.name }));
    await refresh();
  };
  return el("tr", { class: "unit-confirm" }, el("td", { colspan: 6 },
    el("p", {}, t("confirm_deactivate", { name: u.name })),
    el("button", { type: "button", class: "danger", onclick: yes }, t("confirm")),
    el("button", { type: "button", class: "secondary", onclick: () => {
      state.confirming = null;
      redraw(u, "button.deactivate");
    } }, t("cancel"))));
}

const message = () => el("p", { class: "form-status", role: "alert", hidden: true });

function unitBody(u) {
  let msg = message();
  let row;
  if (state.editing === u.id) {
    if (kept?.id !== u.id) kept = { id: u.id, msg, row: editRow(u, msg) };
    ({ msg, row } = kept);
  } else {
    row = viewRow(u);
  }
  const body = el("tbody", { class: u.active ? "unit" : "unit inactive", dataset: { unitId: u.id } });
  body.append(row);
  if (state.confirming === u.id) body.append(confirmRow(u, msg));
  body.append(el("tr", { class: "unit-msg" }, el("td", { colspan: 6 }, msg)));
  if (state.open.has(u.id)) {
    const note = state.notes.get(u.id) || "";
    state.notes.delete(u.id);
    body.append(membersRow(u, state.people, { note, reload: (text) => refresh(text, u.id) }));
  }
  return body;
}

$("#new-unit").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const status = $("#new-unit-status");
  const data = Object.fromEntries(new FormData(form));
  const name = data.name.trim();
  if (!name) {
    say(status, t("err_name_required"));
    $("#nu-name").focus();
    return;
  }
  const body = { name };
  if (data.short_name.trim()) body.short_name = data.short_name.trim();
  if (data.email.trim()) body.email = data.email.trim();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", `/bodies/${bodyId}/units`, body);
  } catch (err) {
    say(status, explain(err, { name })); // the form keeps what was typed
    return;
  } finally {
    button.disabled = false;
  }
  form.reset();
  say(status, t("created", { name }), "ok");
  await refresh();
});

// What was said about the last try goes once the name or an address is typed again.
$("#new-unit").addEventListener("input", () => say($("#new-unit-status"), ""));

render();
api("GET", `/bodies/${bodyId}/members`).then((people) => {
  state.people = people;
  render();
}).catch((err) => {
  $("#units-status").textContent = t("load_failed", { message: explain(err) });
  $("#units-status").hidden = false;
});
