// Create a meeting, then go on to prepare it.
import { api } from "../core/api.js";
import { $, el, fill, t } from "../core/dom.js";

api("GET", "/bodies").then((bodies) => fill($("#body"), (Array.isArray(bodies) ? bodies : []).map((b) => el("option", { value: b.id }, b.name))));
$("#new-meeting").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const m = await api("POST", "/meetings", {
      body_id: Number($("#body").value), title: $("#title").value.trim(), place: $("#place").value.trim() || null,
      starts_at: new Date($("#starts").value).toISOString(),
    });
    location.href = `/meetings/${m.id}/prepare`;
  } catch (err) {
    $("#new-error").textContent = t("error", { message: err.message });
    $("#new-error").hidden = false;
  }
});
