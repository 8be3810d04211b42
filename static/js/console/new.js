// Create a meeting, then go on to prepare it — from nothing, from one of the body's templates,
// as a copy of an earlier sitting, or next month's regular sitting in one more click
// ("Tạo phiên họp thường kỳ tháng 1/2027": title and date by the body's regular template).
import { api } from "../core/api.js";
import { $, el, fill, t } from "../core/dom.js";
import { ct } from "./strings.js";

const prepare = (m) => { location.href = `/meetings/${m.id}/prepare`; };
const fail = (node, err) => { node.textContent = t("error", { message: err.message }); node.hidden = false; };
const startsAt = () => ($("#starts").value ? new Date($("#starts").value).toISOString() : null);
const when = (iso) => new Date(iso).toLocaleString(document.documentElement.lang || "vi",
  { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });

let plan = null;
async function showShortcuts() {
  const bodyId = Number($("#body").value);
  $("#shortcut-error").hidden = true;
  const [templates, next, meetings] = await Promise.all([
    api("GET", `/bodies/${bodyId}/templates`).catch(() => null),
    api("GET", `/bodies/${bodyId}/regular-sittings/next`).catch(() => null),
    api("GET", `/meetings?body_id=${bodyId}`).catch(() => []),
  ]);
  if (Number($("#body").value) !== bodyId) return; // another body was chosen meanwhile
  plan = next;
  $("#regular-box").hidden = !next;
  if (next) {
    $("#regular-create").textContent = ct("regular_create", { month: next.month, year: next.year });
    $("#regular-next").textContent = ct("regular_when", { title: next.title, when: when(next.starts_at) });
  }
  const list = Array.isArray(templates) ? templates : [];
  $("#from-template").hidden = list.length === 0;
  fill($("#template"), list.map((tp) => el("option", { value: tp.id }, tp.regular ? `${tp.name} ★` : tp.name)));
  const earlier = (Array.isArray(meetings) ? meetings : []).slice().reverse();
  // Only the body's office may create its meetings: the templates answer says whether the caller may.
  $("#from-meeting").hidden = templates === null || earlier.length === 0;
  fill($("#source"), earlier.map((m) => el("option", { value: m.id }, m.title)));
  $("#shortcuts").hidden = $("#regular-box").hidden && $("#from-template").hidden && $("#from-meeting").hidden;
}

api("GET", "/bodies").then((bodies) => {
  fill($("#body"), (Array.isArray(bodies) ? bodies : []).map((b) => el("option", { value: b.id }, b.name)));
  showShortcuts();
});
$("#body").addEventListener("change", showShortcuts);

$("#new-meeting").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    prepare(await api("POST", "/meetings", {
      body_id: Number($("#body").value), title: $("#title").value.trim(), place: $("#place").value.trim() || null,
      starts_at: new Date($("#starts").value).toISOString(),
    }));
  } catch (err) { fail($("#new-error"), err); }
});

$("#regular-create").addEventListener("click", async (e) => {
  if (!plan) return;
  e.currentTarget.disabled = true; // a double click must not ask twice (the server would refuse the second: 409)
  try {
    prepare(await api("POST", `/bodies/${$("#body").value}/regular-sittings`, { year: plan.year, month: plan.month }));
  } catch (err) {
    fail($("#shortcut-error"), err);
    $("#regular-create").disabled = false;
    showShortcuts();
  }
});

for (const [form, path] of [["#from-template", () => `/templates/${$("#template").value}/meetings`],
  ["#from-meeting", () => `/meetings/${$("#source").value}/copy`]]) {
  $(form).addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!startsAt()) { fail($("#shortcut-error"), { message: ct("copy_need_date") }); $("#starts").focus(); return; }
    const title = $("#title").value.trim();
    try {
      prepare(await api("POST", path(), { starts_at: startsAt(), ...(title ? { title } : {}) }));
    } catch (err) { fail($("#shortcut-error"), err); }
  });
}
