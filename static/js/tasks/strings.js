// The tasks pages' strings in Vietnamese and English (the page's language: boot.locale).
import { readJSON } from "../core/dom.js";

const STRINGS = {
  vi: {
    show_accepted: "Hiện cả nhiệm vụ đã hoàn thành", col_task: "Nhiệm vụ", col_units: "Đơn vị chủ trì / phối hợp",
    col_deadline: "Hạn xử lý", col_status: "Trạng thái", col_progress: "Tiến độ", none: "Không có nhiệm vụ nào.",
    n_tasks: "{n} nhiệm vụ", back_mine: "← Việc của tôi", task_info: "Thông tin nhiệm vụ", actions: "Thực hiện",
    report_text: "Nội dung báo cáo", report_progress: "Tiến độ (%)", report_files: "Tệp đính kèm (PDF)",
    send_progress: "Gửi báo cáo tiến độ", send_done: "Báo cáo hoàn thành", ask_extension: "Đề nghị gia hạn",
    new_deadline: "Hạn mới", reason: "Lý do", send_extension: "Gửi đề nghị gia hạn", review: "Đánh giá kết quả",
    review_text: "Nhận xét / lý do trả lại", accept: "Công nhận hoàn thành", send_back: "Trả lại",
    extensions: "Đề nghị gia hạn", files: "Tệp báo cáo", history: "Quá trình thực hiện", approve: "Đồng ý",
    refuse: "Không đồng ý", source: "Nguồn", lead_unit: "Đơn vị chủ trì", support_units: "Đơn vị phối hợp",
    assignee: "Người được giao", deadline: "Hạn xử lý", original_deadline: "Hạn ban đầu", priority: "Độ ưu tiên",
    status: "Trạng thái", progress: "Tiến độ", overdue: "Quá hạn", sent: "Đã gửi.", failed: "Không thực hiện được: {message}",
    filters: "Lọc", unit: "Đơn vị", any: "Tất cả", meeting: "Phiên họp", deadline_from: "Hạn từ ngày",
    deadline_to: "đến trước ngày", apply: "Xem", export_csv: "Xuất CSV", export_pdf: "Báo cáo PDF",
    by_unit: "Theo đơn vị chủ trì", total: "Tổng", open: "Đang thực hiện", overdue_list: "Nhiệm vụ quá hạn",
    no_overdue: "Không có nhiệm vụ quá hạn.", all_tasks: "Danh sách nhiệm vụ", new_task: "Giao nhiệm vụ mới",
    title: "Nhiệm vụ", description: "Mô tả", assign: "Giao nhiệm vụ", on_time_rate: "Tỷ lệ đúng hạn",
    fig_total: "Tổng số nhiệm vụ", fig_overdue: "Quá hạn", individual: "(giao cá nhân)", days_late: "trễ {n} ngày",
    st_assigned: "Đã giao", st_in_progress: "Đang thực hiện", st_submitted: "Chờ đánh giá", st_accepted: "Hoàn thành",
    st_returned: "Bị trả lại", st_overdue: "Quá hạn", pr_low: "Thấp", pr_normal: "Bình thường", pr_high: "Cao",
    pr_urgent: "Khẩn", ext_pending: "chờ duyệt", ext_approved: "đã đồng ý", ext_refused: "không đồng ý",
    ext_line: "Đến {date}: {reason} ({status})", src_conclusion: "Kết luận", src_opinion: "Kết quả lấy ý kiến",
    src_manual: "Giao trực tiếp", updated: "Nhiệm vụ vừa được cập nhật.",
    k_created: "Giao nhiệm vụ", k_edited: "Điều chỉnh nhiệm vụ", k_progress: "Báo cáo tiến độ",
    k_submitted: "Báo cáo hoàn thành", k_accepted: "Công nhận hoàn thành", k_returned: "Trả lại",
    k_extension_requested: "Đề nghị gia hạn", k_extension_approved: "Đồng ý gia hạn",
    k_extension_refused: "Không đồng ý gia hạn",
    // "Giao nhiệm vụ" (assign.js): from a conclusion, an opinion result, or by hand on the dashboard
    assign_task: "Giao nhiệm vụ", create_task: "Tạo nhiệm vụ", assigned_ok: "Đã giao nhiệm vụ.",
    no_choice: "— Không chọn —", assignee_or: "Hoặc giao cho cá nhân", tasks_of_source: "Nhiệm vụ đã giao:",
    tasks_made: "{n} nhiệm vụ", assign_from_result: "Giao nhiệm vụ từ kết quả lấy ý kiến",
    err_deadline_past: "Hạn xử lý phải là một ngày trong tương lai.",
    err_no_assignee: "Chọn đơn vị chủ trì hoặc cá nhân được giao.",
    err_lead_supports: "Đơn vị chủ trì không đồng thời là đơn vị phối hợp.",
    err_unknown_unit: "Đơn vị không thuộc cơ quan này.", err_inactive_unit: "Đơn vị đã ngừng hoạt động.",
    err_unknown_user: "Không có người dùng này (hoặc đã bị khóa).",
    err_unknown_source: "Không tìm thấy nguồn của nhiệm vụ (kết luận / phiếu lấy ý kiến).",
    err_forbidden: "Chỉ văn phòng của cơ quan được giao nhiệm vụ.",
    err_missing_title: "Nhập tên nhiệm vụ.", err_offline: "Mất kết nối; nhiệm vụ chưa được giao.",
  },
  en: {
    show_accepted: "Show accepted tasks too", col_task: "Task", col_units: "Lead / supporting units",
    col_deadline: "Deadline", col_status: "Status", col_progress: "Progress", none: "No tasks.",
    n_tasks: "{n} tasks", back_mine: "← My tasks", task_info: "The task", actions: "Report",
    report_text: "What was done", report_progress: "Progress (%)", report_files: "Files (PDF)",
    send_progress: "Send progress report", send_done: "Report done", ask_extension: "Ask for more time",
    new_deadline: "New deadline", reason: "Reason", send_extension: "Send the request", review: "Review",
    review_text: "Comment / reason for sending back", accept: "Accept as done", send_back: "Send back",
    extensions: "Extension requests", files: "Reported files", history: "History", approve: "Approve",
    refuse: "Refuse", source: "Source", lead_unit: "Lead unit", support_units: "Supporting units",
    assignee: "Assigned to", deadline: "Deadline", original_deadline: "First deadline", priority: "Priority",
    status: "Status", progress: "Progress", overdue: "Overdue", sent: "Sent.", failed: "That did not work: {message}",
    filters: "Filters", unit: "Unit", any: "Any", meeting: "Sitting", deadline_from: "Deadline from",
    deadline_to: "before", apply: "Show", export_csv: "Export CSV", export_pdf: "PDF report",
    by_unit: "By lead unit", total: "Total", open: "Open", overdue_list: "Overdue tasks",
    no_overdue: "No task is overdue.", all_tasks: "All tasks", new_task: "Assign a new task",
    title: "Task", description: "Description", assign: "Assign", on_time_rate: "On-time rate",
    fig_total: "Tasks", fig_overdue: "Overdue", individual: "(a person)", days_late: "{n} days late",
    st_assigned: "Assigned", st_in_progress: "In progress", st_submitted: "Submitted", st_accepted: "Accepted",
    st_returned: "Returned", st_overdue: "Overdue", pr_low: "Low", pr_normal: "Normal", pr_high: "High",
    pr_urgent: "Urgent", ext_pending: "pending", ext_approved: "approved", ext_refused: "refused",
    ext_line: "Until {date}: {reason} ({status})", src_conclusion: "Conclusion", src_opinion: "Opinion result",
    src_manual: "Assigned directly", updated: "The task was just updated.",
    k_created: "Assigned", k_edited: "Changed", k_progress: "Progress report", k_submitted: "Reported done",
    k_accepted: "Accepted", k_returned: "Sent back", k_extension_requested: "Extension requested",
    k_extension_approved: "Extension approved", k_extension_refused: "Extension refused",
    // "Giao nhiệm vụ" (assign.js): from a conclusion, an opinion result, or by hand on the dashboard
    assign_task: "Assign a task", create_task: "Create a task", assigned_ok: "The task was assigned.",
    no_choice: "— None —", assignee_or: "Or assign to a person", tasks_of_source: "Tasks assigned:",
    tasks_made: "{n} tasks", assign_from_result: "Assign tasks from the result",
    err_deadline_past: "The deadline must be a day in the future.",
    err_no_assignee: "Choose a lead unit or a person.",
    err_lead_supports: "The lead unit cannot also be a supporting unit.",
    err_unknown_unit: "That unit is not one of this body's.", err_inactive_unit: "That unit is out of service.",
    err_unknown_user: "There is no such active user.",
    err_unknown_source: "The task's source (conclusion / opinion form) was not found.",
    err_forbidden: "Only the body's office can assign tasks.",
    err_missing_title: "Enter the task's title.", err_offline: "No connection; the task was not assigned.",
  },
};

const boot = readJSON("boot");
const lang = boot.locale === "en" ? "en" : "vi";

/** The string `key` with {name} placeholders filled from `vars`. */
export function tt(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Fill every [data-t] element's text (labels, headings, buttons, options) in the page's language. */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-t]")) node.textContent = tt(node.dataset.t);
}

export { boot, lang };
