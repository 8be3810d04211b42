// Expected attendance: who answered the invitation how, the counts, the quorum if those who
// said "attend" come; and the button that starts the roll call from the answers.
// Self-mounting: loaded by the preparation page (console/prepare.html) and the live console
// (console/live.html); it adds its own card to the page's `.console` and reads the meeting id
// from the page's boot data. Words in Vietnamese or English by <html lang>.
import { api } from "../core/api.js";
import { $, el, fill, readJSON, toast } from "../core/dom.js";

const WORDS = {
  vi: {
    title: "Dự kiến tham dự", refresh: "Cập nhật", fromReplies: "Điểm danh theo trả lời",
    name: "Họ và tên", role: "Vai trò", reply: "Trả lời", reason: "Lý do / người nhận ủy quyền",
    pending: "Chưa trả lời", attend: "Tham dự", decline: "Không tham dự", proxy: "Ủy quyền",
    total: "Tổng số", quorum: "Nếu những người nhận lời đều đến: {present}/{members} thành viên biểu quyết (cần {required}) — {verdict}.",
    met: "đủ số lượng", notMet: "chưa đủ số lượng", noEmail: "không có e-mail", marked: "Đã điểm danh {n} người theo trả lời.",
    notPublished: "Giấy mời được gửi khi công bố cuộc họp.",
  },
  en: {
    title: "Expected attendance", refresh: "Refresh", fromReplies: "Roll call from the answers",
    name: "Name", role: "Role", reply: "Answer", reason: "Reason / proxy holder",
    pending: "No answer", attend: "Attending", decline: "Not attending", proxy: "Proxy",
    total: "Total", quorum: "If everyone who accepted comes: {present}/{members} voting members (needs {required}) — {verdict}.",
    met: "quorum", notMet: "no quorum", noEmail: "no e-mail", marked: "{n} marked from the answers.",
    notPublished: "Invitations go out when the meeting is published.",
  },
};
const w = WORDS[document.documentElement.lang] || WORDS.vi;
const say = (key, vars = {}) => w[key].replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

const boot = readJSON("boot");
const meetingId = boot.meeting?.id;
const host = $(".console");

function card() {
  const section = el("section", { class: "card wide", id: "invitations", "aria-labelledby": "inv-h" },
    el("h2", { id: "inv-h" }, w.title),
    el("p", { id: "inv-counts", role: "status", "aria-live": "polite" }),
    el("p", { id: "inv-quorum", class: "muted" }),
    el("div", { class: "row" },
      el("button", { type: "button", class: "secondary", id: "inv-refresh", onclick: load }, w.refresh),
      el("button", { type: "button", id: "inv-from-replies", onclick: fromReplies }, w.fromReplies)),
    el("table", {}, el("thead", {}, el("tr", {}, ...[w.name, w.role, w.reply, w.reason].map(
      (h) => el("th", { scope: "col" }, h)))), el("tbody", { id: "inv-rows" })));
  host.append(section);
}

function render(data) {
  const c = data.counts;
  fill($("#inv-counts"), ["attend", "decline", "proxy", "pending"].map((k) => el("span", {
    class: `badge reply-${k}`, "data-reply": k }, `${w[k]}: ${c[k]}`, " ")), `${w.total}: ${c.total}`);
  const q = data.expected.quorum;
  $("#inv-quorum").textContent = say("quorum", { present: q.present, members: q.members, required: q.required,
    verdict: q.met ? w.met : w.notMet });
  fill($("#inv-rows"), data.invitations.map((r) => el("tr", { "data-user-id": r.user_id, "data-reply": r.reply },
    el("td", {}, r.full_name, r.has_email ? null : el("small", { class: "muted" }, ` (${w.noEmail})`)),
    el("td", {}, r.role),
    el("td", {}, w[r.reply] || r.reply),
    el("td", {}, r.reply === "proxy" ? r.proxy_holder_name || "" : r.reason || ""))));
}

async function load() {
  try {
    render(await api("GET", `/meetings/${meetingId}/invitations`));
  } catch (err) {
    $("#inv-counts").textContent = err.status === 403 ? "" : err.message;
  }
}

async function fromReplies() {
  try {
    const result = await api("POST", `/meetings/${meetingId}/attendance/from-replies`);
    toast(say("marked", { n: result.marked.length }));
    document.dispatchEvent(new CustomEvent("attendance:refresh", { detail: result }));
  } catch (err) { toast(err.message, "error"); }
}

if (host && meetingId) {
  card();
  if (boot.meeting.status === "draft") $("#inv-counts").textContent = w.notPublished;
  else load();
  // Answers keep coming before the sitting: look again now and then while the page is seen.
  setInterval(() => { if (document.visibilityState === "visible" && boot.meeting.status !== "draft") load(); },
    60_000);
}
