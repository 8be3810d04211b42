// "Cấp máy tính bảng" (provision tablets): each participant's enrolment link state, revoking one
// (a used link signs its tablet out), and the button that issues links for everyone and opens the
// A4 sheet of QR codes to print (a form post: the secrets exist only in that answer).
// Self-mounting, like invitations.js: it adds its own card to the page's `.console` and reads the
// meeting id from the page's boot data. Words in Vietnamese or English by <html lang>.
import { api } from "../core/api.js";
import { $, el, fill, readJSON, toast } from "../core/dom.js";

const WORDS = {
  vi: {
    title: "Cấp máy tính bảng", refresh: "Cập nhật", print: "Tạo và in mã QR cho tất cả đại biểu",
    printHelp: "Mỗi mã đăng nhập một máy tính bảng, một lần, không cần mật khẩu. Tạo lại sẽ hủy các mã chưa dùng.",
    name: "Họ và tên", position: "Chức vụ", role: "Vai trò", state: "Trạng thái", revoke: "Thu hồi",
    none: "Chưa cấp", pending: "Chưa dùng, hết hạn {when}", used: "Đã dùng lúc {when}", expired: "Hết hạn",
    revoked: "Đã thu hồi", revoked_ok: "Đã thu hồi mã.", device_ended: "Đã thu hồi mã và đăng xuất máy tính bảng.",
    confirmRevoke: "Thu hồi mã của {name}? Nếu máy đã được cấp, máy sẽ bị đăng xuất.",
  },
  en: {
    title: "Provision tablets", refresh: "Refresh", print: "Issue and print QR codes for all delegates",
    printHelp: "Each code signs one tablet in, once, without a password. Issuing again voids unused codes.",
    name: "Name", position: "Position", role: "Role", state: "State", revoke: "Revoke",
    none: "Not issued", pending: "Unused, expires {when}", used: "Used at {when}", expired: "Expired",
    revoked: "Revoked", revoked_ok: "The code is revoked.", device_ended: "The code is revoked and the tablet signed out.",
    confirmRevoke: "Revoke {name}'s code? A tablet enrolled with it is signed out.",
  },
};
const w = WORDS[document.documentElement.lang] || WORDS.vi;
const say = (key, vars = {}) => w[key].replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
const when = (iso) => (iso ? new Date(iso).toLocaleString(document.documentElement.lang || "vi") : "");

const boot = readJSON("boot");
const meetingId = boot.meeting?.id;
const host = $(".console");
const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function card() {
  const form = el("form", { method: "post", action: `/meetings/${meetingId}/enrolment-sheet`, target: "_blank",
    id: "enrol-print-form" },
  el("input", { type: "hidden", name: "csrf_token", value: csrf() }),
  el("button", { type: "submit", id: "enrol-print" }, w.print));
  host.append(el("section", { class: "card wide", id: "enrol", "aria-labelledby": "enrol-h" },
    el("h2", { id: "enrol-h" }, w.title),
    el("p", { class: "muted" }, w.printHelp),
    el("div", { class: "row" }, form,
      el("button", { type: "button", class: "secondary", id: "enrol-refresh", onclick: load }, w.refresh)),
    el("table", {}, el("thead", {}, el("tr", {}, ...[w.name, w.position, w.role, w.state, ""].map(
      (h) => el("th", { scope: "col" }, h)))), el("tbody", { id: "enrol-rows", "aria-live": "polite" }))));
}

function state(link) {
  if (!link) return w.none;
  if (link.status === "pending") return say("pending", { when: when(link.expires_at) });
  if (link.status === "used") return say("used", { when: when(link.used_at) });
  return w[link.status] || link.status;
}

function render(rows) {
  fill($("#enrol-rows"), rows.map((r) => el("tr", { "data-user-id": r.user_id, "data-state": r.link?.status || "none" },
    el("td", {}, r.full_name), el("td", {}, r.position || ""), el("td", {}, r.role), el("td", {}, state(r.link)),
    el("td", {}, r.link && ["pending", "used"].includes(r.link.status)
      ? el("button", { type: "button", class: "secondary", "data-revoke": r.link.id,
        onclick: () => revoke(r) }, w.revoke) : null))));
}

async function load() {
  try {
    render(await api("GET", `/meetings/${meetingId}/enrolment-links`));
  } catch (err) { toast(err.message, "error"); }
}

async function revoke(row) {
  if (!window.confirm(say("confirmRevoke", { name: row.full_name }))) return;
  try {
    const result = await api("DELETE", `/meetings/${meetingId}/enrolment-links/${row.link.id}`);
    toast(result.device_ended ? w.device_ended : w.revoked_ok);
    await load();
  } catch (err) { toast(err.message, "error"); }
}

if (host && meetingId) {
  card();
  load();
  // The sheet opens in another tab; coming back shows the new codes' state.
  window.addEventListener("focus", load);
}
