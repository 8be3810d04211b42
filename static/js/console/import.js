// Bulk import of participants (CSV or XLSX): upload, preview with an error per bad row, confirm;
// and "add every member of the body" in one step.
// Self-mounting: loaded by the preparation page (console/prepare.html includes console/_import.html);
// it adds its own card to the page's `.console` and reads the meeting id from the page's boot data.
// Words in Vietnamese or English by <html lang>. After a change it dispatches "participants:refresh"
// on document (the page's participant list listens, or reloads).
import { api } from "../core/api.js";
import { $, el, fill, readJSON, toast } from "../core/dom.js";

const WORDS = {
  vi: {
    title: "Nhập danh sách đại biểu", file: "Tệp danh sách (.xlsx hoặc .csv)", preview: "Xem trước",
    apply: "Nhập {n} dòng", cancel: "Hủy", fromBody: "Thêm tất cả thành viên của cơ quan",
    hint: "Cột: Họ và tên, Tên đăng nhập, Thư điện tử, Điện thoại, Đơn vị, Vai trò (chủ tọa, thư ký, đại biểu, "
      + "khách mời), Quyền biểu quyết (có/không), Trọng số. Xem trước không ghi gì.",
    row: "Dòng", name: "Họ và tên", username: "Tên đăng nhập", email: "Thư điện tử", unit: "Đơn vị",
    role: "Vai trò", vote: "Biểu quyết", weight: "Trọng số", account: "Tài khoản", participant: "Tham dự",
    problem: "Lỗi", yes: "có", no: "không",
    new: "tạo mới", update: "cập nhật", same: "không đổi", add: "thêm",
    chair: "chủ tọa", secretary: "thư ký", delegate: "đại biểu", observer: "khách mời",
    summary: "{rows} dòng: {users_created} tài khoản mới, {users_updated} cập nhật, {participants_added} đại biểu "
      + "thêm, {participants_updated} thay đổi, {units_created} đơn vị mới. {errors} lỗi.",
    hasErrors: "Sửa các dòng lỗi trong tệp rồi xem trước lại: khi còn lỗi, không dòng nào được nhập.",
    nothing: "Không có gì thay đổi.", done: "Đã nhập: {participants_added} đại biểu thêm, {participants_updated} thay đổi.",
    fromBodyDone: "Đã thêm {added} thành viên ({already} đã có).", pick: "Hãy chọn một tệp.",
    warning: "Lưu ý",
    codes: {
      missing_name: "Thiếu họ và tên.", missing_identity: "Cần tên đăng nhập hoặc thư điện tử.",
      bad_email: "Thư điện tử không hợp lệ.", bad_phone: "Số điện thoại không hợp lệ.",
      bad_username: "Tên đăng nhập chỉ gồm chữ, số và . _ @ + - (không dấu cách).",
      unknown_role: "Vai trò không rõ (chủ tọa, thư ký, đại biểu, khách mời).",
      bad_yes_no: "Ghi “có” hoặc “không”.", bad_weight: "Trọng số phải là số nguyên ≥ 1.",
      duplicate_username: "Tên đăng nhập trùng với một dòng trước.", duplicate_email: "Thư điện tử trùng với một dòng trước.",
      duplicate_person: "Cùng một người với một dòng trước.", second_chair: "Chỉ có một chủ tọa.",
      chair_taken: "Cuộc họp đã có chủ tọa.", observer_cannot_vote: "Khách mời không biểu quyết.",
      email_taken: "Thư điện tử này thuộc một tài khoản khác.", ambiguous_email: "Nhiều tài khoản có thư điện tử này: ghi tên đăng nhập.",
      missing_column: "Thiếu cột “Họ và tên”.", name_too_long: "Họ và tên quá dài.",
      formula_like: "Ô bắt đầu bằng = + - @ như một công thức bảng tính: họ tên, đơn vị, chức vụ không thể như vậy.",
      account_kept: "Tài khoản đã có được giữ nguyên (chỉ quản trị viên sửa được).",
      empty_file: "Tệp trống.", file_too_large: "Tệp lớn hơn 5 MB.", too_large: "Tệp quá lớn.",
      unsupported_type: "Hãy lưu danh sách dưới dạng .xlsx hoặc .csv.",
      unreadable_file: "Không đọc được tệp: hãy lưu lại dưới dạng .xlsx hoặc CSV UTF-8.",
      zip_bomb: "Tệp chứa quá nhiều dữ liệu so với một danh sách đại biểu nên bị từ chối.",
      no_header: "Tệp không có dòng tiêu đề.", too_many_rows: "Mỗi tệp tối đa 10.000 người.",
      file_changed: "Tệp đã thay đổi sau khi xem trước: hãy xem trước lại.",
      import_errors: "Còn dòng lỗi nên không dòng nào được nhập.",
      meeting_closed: "Cuộc họp đã kết thúc, không thể thay đổi.",
      forbidden: "Chỉ người chuẩn bị cuộc họp mới được nhập danh sách.",
      unknown_unit: "Đơn vị này không thuộc cơ quan của cuộc họp.", offline: "Mất kết nối tới máy chủ.",
    },
  },
  en: {
    title: "Import participants", file: "List file (.xlsx or .csv)", preview: "Preview", apply: "Import {n} rows",
    cancel: "Cancel", fromBody: "Add every member of the body",
    hint: "Columns: name, username, e-mail, phone, unit, role (chair, secretary, delegate, observer), voting right "
      + "(yes/no), weight. The preview writes nothing.",
    row: "Row", name: "Name", username: "Username", email: "E-mail", unit: "Unit", role: "Role", vote: "Votes",
    weight: "Weight", account: "Account", participant: "Participant", problem: "Error", yes: "yes", no: "no",
    new: "new", update: "update", same: "unchanged", add: "add",
    chair: "chair", secretary: "secretary", delegate: "delegate", observer: "observer",
    summary: "{rows} rows: {users_created} new accounts, {users_updated} updated, {participants_added} participants "
      + "added, {participants_updated} changed, {units_created} new units. {errors} errors.",
    hasErrors: "Fix the rows in error in the file and preview again: while any row is wrong, nothing is imported.",
    nothing: "Nothing to change.", done: "Imported: {participants_added} added, {participants_updated} changed.",
    fromBodyDone: "{added} members added ({already} already there).", pick: "Choose a file.", warning: "Note",
    codes: {},
  },
};
const w = WORDS[document.documentElement.lang] || WORDS.vi;
const say = (key, vars = {}) => w[key].replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
const message = (e) => w.codes[e.code] || e.message;

const boot = readJSON("boot");
const meetingId = boot.meeting?.id;
const host = $(".console");
let previewed = null; // { file, sha256 }

function card() {
  host.append(el("section", { class: "card wide", id: "import", "aria-labelledby": "imp-h" },
    el("h2", { id: "imp-h" }, w.title),
    el("p", { class: "muted" }, w.hint),
    el("div", { class: "row" },
      el("label", { for: "imp-file" }, w.file),
      el("input", { type: "file", id: "imp-file", accept: ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        onchange: () => { previewed = null; fill($("#imp-result")); $("#imp-apply").hidden = true; } }),
      el("button", { type: "button", id: "imp-preview", onclick: preview }, w.preview),
      el("button", { type: "button", id: "imp-apply", hidden: true, onclick: apply }, ""),
      el("button", { type: "button", class: "secondary", id: "imp-from-body", onclick: fromBody }, w.fromBody)),
    el("p", { id: "imp-summary", role: "status", "aria-live": "polite" }),
    el("div", { id: "imp-result" })));
}

function form(mode) {
  const data = new FormData();
  data.append("file", previewed?.file || $("#imp-file").files[0]);
  data.append("mode", mode);
  if (mode === "apply" && previewed) data.append("file_sha256", previewed.sha256);
  return data;
}

function cell(value) { return el("td", {}, value === null || value === undefined ? "" : String(value)); }

function render(report) {
  $("#imp-summary").textContent = say("summary", report.counts);
  const byRow = new Map();
  for (const e of [...report.errors, ...report.warnings]) {
    if (!byRow.has(e.row)) byRow.set(e.row, []);
    byRow.get(e.row).push(e);
  }
  const fileErrors = report.errors.filter((e) => !report.rows.some((r) => r.row === e.row));
  const table = el("table", {}, el("thead", {}, el("tr", {}, ...[w.row, w.name, w.username, w.email, w.unit, w.role,
    w.vote, w.weight, w.account, w.participant, w.problem].map((h) => el("th", { scope: "col" }, h)))),
  el("tbody", {}, ...report.rows.map((r) => {
    const problems = byRow.get(r.row) || [];
    const bad = r.errors.length > 0;
    return el("tr", { "data-row": r.row, class: bad ? "error" : "" },
      cell(r.row), cell(r.full_name), cell(r.username), cell(r.email), cell(r.unit), cell(w[r.role] || r.role),
      cell(r.can_vote === undefined ? "" : r.can_vote ? w.yes : w.no), cell(r.vote_weight),
      cell(w[r.user] || ""), cell(w[r.participant] || ""),
      el("td", {}, ...problems.map((e) => el("div", { class: e.code === "account_kept" ? "muted" : "error",
        "data-code": e.code }, `${e.column ? `[${e.column}] ` : ""}${message(e)}`))));
  })));
  fill($("#imp-result"), ...fileErrors.map((e) => el("p", { class: "error", "data-code": e.code }, message(e))),
    report.errors.length ? el("p", { class: "error" }, w.hasErrors) : null, table);
}

async function preview() {
  const file = $("#imp-file").files[0];
  if (!file) { toast(w.pick, "error"); return; }
  try {
    const report = await api("POST", `/meetings/${meetingId}/participants/import`, form("dry_run"));
    previewed = { file, sha256: report.file_sha256 };
    render(report);
    const button = $("#imp-apply");
    button.textContent = say("apply", { n: report.counts.rows });
    button.hidden = report.errors.length > 0;
  } catch (err) { toast(message(err), "error"); }
}

async function apply() {
  try {
    const report = await api("POST", `/meetings/${meetingId}/participants/import`, form("apply"));
    render(report);
    $("#imp-apply").hidden = true;
    const c = report.counts;
    toast(c.participants_added || c.participants_updated || c.users_updated ? say("done", c) : w.nothing);
    document.dispatchEvent(new CustomEvent("participants:refresh", { detail: report }));
  } catch (err) {
    if (err.code === "import_errors" && err.details?.errors) toast(w.hasErrors, "error");
    else toast(message(err), "error");
  }
}

async function fromBody() {
  try {
    const result = await api("POST", `/meetings/${meetingId}/participants/from-body`, {});
    toast(say("fromBodyDone", result));
    document.dispatchEvent(new CustomEvent("participants:refresh", { detail: result }));
  } catch (err) { toast(message(err), "error"); }
}

if (host && meetingId) card();
