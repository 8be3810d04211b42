// The conclusion notice page: the secretariat composes and edits the Thông báo kết luận, the designated
// signer signs it, everyone who may read it reads it. Everything goes through /api/v1; the server's
// policy decides (a button shown here is only a hint: a refused call shows the server's reason).
import { api } from "../core/api.js";

const STRINGS = {
  vi: {
    none: "Cuộc họp chưa có thông báo kết luận.", create: "Soạn từ kết luận của phiên họp",
    title: "Thông báo kết luận", state: "Trạng thái", pdf: "Xem PDF", subject: "Trích yếu (Kết luận của …)",
    opening: "Đoạn mở đầu", conclusions: "Các kết luận (đánh số theo thứ tự)", add: "Thêm kết luận",
    remove: "Xóa", up: "Lên", down: "Xuống", recipients: "Nơi nhận (mỗi dòng một nơi)",
    units: "Gửi các đơn vị", emails: "Gửi thêm địa chỉ e-mail (mỗi dòng một địa chỉ)",
    participants: "Gửi các thành viên dự họp", save: "Lưu", ready: "Trình ký", reopen: "Trả về dự thảo",
    publish: "Ban hành và gửi", secret: "Mật khẩu khóa ký", sign: "Ký số",
    saved: "Đã lưu.", done: "Đã cập nhật.", error: "Không thực hiện được",
    st_draft: "Dự thảo", st_ready: "Chờ ký", st_signed: "Đã ký", st_published: "Đã ban hành",
  },
  en: {
    none: "This meeting has no conclusion notice yet.", create: "Compose from the sitting's conclusions",
    title: "Conclusion notice", state: "Status", pdf: "Open PDF", subject: "Subject (Conclusions of …)",
    opening: "Opening paragraph", conclusions: "Conclusions (numbered in order)", add: "Add a conclusion",
    remove: "Remove", up: "Up", down: "Down", recipients: "Recipients (Nơi nhận, one per line)",
    units: "Send to units", emails: "Also send to these e-mail addresses (one per line)",
    participants: "Send to the meeting's participants", save: "Save", ready: "Send for signature",
    reopen: "Back to draft", publish: "Publish and send", secret: "Signing key passphrase", sign: "Sign",
    saved: "Saved.", done: "Updated.", error: "Could not do that",
    st_draft: "Draft", st_ready: "Waiting for signature", st_signed: "Signed", st_published: "Published",
  },
};

const boot = JSON.parse(document.getElementById("boot").textContent);
const T = STRINGS[boot.locale?.startsWith("en") ? "en" : "vi"];
const $ = (id) => document.getElementById(id);
let notice = null;

document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = T[el.dataset.t] || el.dataset.t; });

function say(text, failed = false) {
  const el = $("cn-status");
  el.textContent = text;
  el.classList.toggle("error", failed);
}

async function run(fn, okText = T.done) {
  try {
    await fn();
    say(okText);
  } catch (err) {
    say(`${T.error}: ${err.message}`, true);
  }
}

function itemRow(item) {
  const li = document.createElement("li");
  li.dataset.id = item.id ?? "";
  li.dataset.agenda = item.agenda_item_id ?? "";
  const text = document.createElement("textarea");
  text.rows = 3;
  text.maxLength = 20000;
  text.value = item.text || "";
  text.setAttribute("aria-label", T.conclusions);
  li.append(text);
  for (const [key, move] of [["up", -1], ["down", 1], ["remove", 0]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = T[key];
    b.addEventListener("click", () => {
      if (move === 0) li.remove();
      else if (move < 0 && li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
      else if (move > 0 && li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li);
    });
    li.append(b);
  }
  return li;
}

async function renderUnits() {
  const box = $("cn-units");
  box.replaceChildren();
  let units = [];
  try { units = await api("GET", `/bodies/${boot.meeting.body_id}/units`); } catch { return; }
  for (const u of units || []) {
    const label = document.createElement("label");
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.value = u.id;
    cb.checked = (notice.recipient_unit_ids || []).includes(u.id);
    label.append(cb, ` ${u.name}${u.email ? ` (${u.email})` : ""}`);
    box.append(label);
  }
}

function render() {
  $("cn-empty").hidden = !!notice;
  $("cn-create").hidden = !!notice || !boot.prepare;
  $("cn-notice").hidden = !notice;
  if (!notice) return;
  const draft = notice.status === "draft";
  const editable = draft && boot.prepare;
  $("cn-number").textContent = notice.number ? `Số: ${notice.number}` : "";
  $("cn-state").textContent = T[`st_${notice.status}`] || notice.status;
  $("cn-file").href = `/api/v1/conclusion-notices/${notice.id}/file`;
  $("cn-subject").value = notice.subject;
  $("cn-opening").value = notice.opening_text || "";
  $("cn-items").replaceChildren(...notice.items.map(itemRow));
  $("cn-recipients").value = (notice.recipients || []).join("\n");
  $("cn-emails").value = (notice.extra_emails || []).join("\n");
  $("cn-participants").checked = notice.send_to_participants;
  $("cn-form").querySelectorAll("input, textarea, #cn-add, #cn-items button").forEach((el) => {
    el.disabled = !editable;
  });
  $("cn-save").hidden = !editable;
  $("cn-ready").hidden = !editable;
  $("cn-reopen").hidden = !(boot.prepare && notice.status === "ready");
  $("cn-publish").hidden = !(boot.prepare && notice.status === "signed");
  $("cn-sign").hidden = !(notice.status === "ready" && notice.signer_id === boot.me.id);
  if (boot.prepare) renderUnits();
  renderTasks();
}

// The office assigns follow-up tasks from each numbered conclusion once the notice's text is final (signed or
// published): static/js/tasks/assign.js, loaded only then. Blocks are kept by conclusion id so a reload of
// the notice (visibilitychange) keeps a half-filled form.
const taskBlocks = new Map();
async function renderTasks() {
  if (!boot.task_office || !["signed", "published"].includes(notice.status)) return;
  const { mountSourceTasks, shorten } = await import("../tasks/assign.js");
  for (const li of $("cn-items").children) {
    const id = Number(li.dataset.id);
    if (!id) continue;
    if (!taskBlocks.has(id)) {
      const box = document.createElement("div");
      box.dataset.conclusion = id;
      const text = li.querySelector("textarea").value;
      mountSourceTasks(box, { bodyId: boot.meeting.body_id, source: { kind: "conclusion", id },
        prefill: { title: shorten(text), description: text }, prefix: `cn-task-${id}` });
      taskBlocks.set(id, box);
    }
    li.append(taskBlocks.get(id));
  }
}

async function load() {
  try {
    notice = await api("GET", `/meetings/${boot.meeting.id}/conclusion-notice`);
  } catch (err) {
    if (err.status !== 404) say(`${T.error}: ${err.message}`, true);
    notice = null;
  }
  render();
}

function edits() {
  const lines = (v) => v.split("\n").map((s) => s.trim()).filter(Boolean);
  return {
    subject: $("cn-subject").value,
    opening_text: $("cn-opening").value || null,
    items: [...$("cn-items").children].map((li) => ({
      ...(li.dataset.id ? { id: Number(li.dataset.id) } : {}),
      ...(li.dataset.agenda ? { agenda_item_id: Number(li.dataset.agenda) } : {}),
      text: li.querySelector("textarea").value,
    })).filter((i) => i.text.trim()),
    recipients: lines($("cn-recipients").value),
    extra_emails: lines($("cn-emails").value),
    recipient_unit_ids: [...$("cn-units").querySelectorAll("input:checked")].map((cb) => Number(cb.value)),
    send_to_participants: $("cn-participants").checked,
  };
}

const path = (tail = "") => `/conclusion-notices/${notice.id}${tail}`;

$("cn-create").addEventListener("click", () => run(async () => {
  notice = await api("POST", `/meetings/${boot.meeting.id}/conclusion-notice`);
  render();
}));
$("cn-add").addEventListener("click", () => $("cn-items").append(itemRow({ text: "" })));
$("cn-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(async () => { notice = await api("PATCH", path(), edits()); render(); }, T.saved);
});
$("cn-ready").addEventListener("click", () => run(async () => {
  await api("PATCH", path(), edits());
  notice = await api("POST", path("/ready"));
  render();
}));
$("cn-reopen").addEventListener("click", () => run(async () => { notice = await api("POST", path("/reopen")); render(); }));
$("cn-publish").addEventListener("click", () => run(async () => { notice = await api("POST", path("/publish")); render(); }));
$("cn-sign").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const secret = $("cn-secret").value;
  $("cn-secret").value = ""; // the passphrase is sent once and never kept on the page
  run(async () => { notice = await api("POST", path("/signature"), { secret }); render(); });
});
// Another device may have moved the notice on (signed, published): look again when the page comes back.
document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });

load();
