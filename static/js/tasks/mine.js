// "Việc của tôi": the caller's tasks (GET /api/v1/me/tasks), refreshed when one changes.
import { api } from "../core/api.js";
import { $, el, fill } from "../core/dom.js";
import { onTaskChanged, taskRow } from "./common.js";
import { translatePage, tt } from "./strings.js";

translatePage();
const body = $("#mine");

async function load() {
  try {
    const tasks = await api("GET", `/me/tasks?include_accepted=${$("#show-accepted").checked}`);
    $("#mine-summary").textContent = tasks.length ? tt("n_tasks", { n: tasks.length }) : tt("none");
    fill(body, tasks.map(taskRow));
  } catch (err) {
    fill(body, el("tr", {}, el("td", { colspan: 5, class: "error-box", role: "alert" }, tt("failed", { message: err.message }))));
  }
}

$("#show-accepted").addEventListener("change", load);
onTaskChanged(load);
load();
