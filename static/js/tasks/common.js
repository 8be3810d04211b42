// Shared by the tasks pages: a task row, status labels, dates, and the live "task.changed" event.
import { io } from "/vendor/socket.io-client/dist/socket.io.esm.min.js";
import { el } from "../core/dom.js";
import { lang, tt } from "./strings.js";

export const STATUSES = ["assigned", "in_progress", "submitted", "accepted", "returned"];
const DATE = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "vi-VN",
  { day: "2-digit", month: "2-digit", year: "numeric", timeZone: "Asia/Ho_Chi_Minh" });
const DATETIME = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "vi-VN",
  { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh" });

export const date = (iso) => (iso ? DATE.format(new Date(iso)) : "");
export const datetime = (iso) => (iso ? DATETIME.format(new Date(iso)) : "");

/** A status badge; overdue tasks get the overdue flag beside it. */
export function statusBadge(task) {
  return el("span", {}, el("span", { class: `badge st-${task.status}` }, tt(`st_${task.status}`)),
    task.overdue ? el("span", { class: "badge st-overdue", "data-testid": "overdue-flag" }, tt("st_overdue")) : null);
}

export function unitsText(task) {
  return [task.lead_unit_name || task.assignee_name || tt("individual"), ...(task.support_unit_names || [])]
    .join(" / ");
}

/** One table row of a task list, linking to its page. */
export function taskRow(task) {
  return el("tr", { class: task.overdue ? "overdue" : "", dataset: { taskId: task.id } },
    el("td", {}, el("a", { href: `/tasks/${task.id}` }, task.title),
      task.source_label ? el("div", { class: "muted" }, task.source_label) : null),
    el("td", {}, unitsText(task)),
    el("td", {}, date(task.deadline)),
    el("td", {}, statusBadge(task)),
    el("td", {}, el("progress", { max: 100, value: task.progress, "aria-label": `${task.progress}%` }),
      ` ${task.progress}%`));
}

/** Call `onChange(data)` whenever a task this user follows changes (the user's own socket room). */
export function onTaskChanged(onChange) {
  try {
    const socket = io({ transports: ["websocket", "polling"] });
    socket.on("task.changed", (data) => onChange(data || {}));
    return socket;
  } catch {
    return null; // no socket: the page still works, it just does not refresh by itself
  }
}
