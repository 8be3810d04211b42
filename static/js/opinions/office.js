// The office's parts of the opinion pages (templates/opinions/): on a form's page the live tally
// (GET …/tally, fetched again on each "opinion.tally" of the user's own socket room), who has not
// answered, and the steps send → close → compose the report → sign → publish; on the list page the
// drafting of a new form. Everything goes through /api/v1, whose policy decides (a button here is a hint).
import { io } from "/vendor/socket.io-client/dist/socket.io.esm.min.js";
import { api, ApiError } from "../core/api.js";
import { el } from "../core/dom.js";

const words = JSON.parse(document.getElementById("opinion-words")?.textContent || "{}");
const w = (key, vars = {}) => (words[key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (n in vars ? String(vars[n]) : m));

function failure(err) {
  const code = err instanceof ApiError ? err.code : "offline";
  const missing = (err.details?.missing || []).map((m) => words[`missing.${m}`] || m).join(", ");
  let text = words[code] ? w(code, { missing }) : err.message;
  return `${w("office.failed")}: ${text || words.offline}`;
}

// ---------------------------------------------------------------- a form's page
const panel = document.getElementById("opinion-office");
if (panel) {
  const boot = JSON.parse(document.getElementById("office-boot").textContent);
  const base = `/opinion-forms/${boot.form_id}`;
  const status = document.getElementById("office-status");
  const say = (text, bad = false) => { status.textContent = text; status.classList.toggle("error", bad); };
  const name = (id) => boot.names[String(id)] || `#${id}`;

  function outcome(q) {
    if (q.kind !== "choice") return w(`outcome.${q.outcome}`);
    const passed = (q.options || []).filter((o) => o.passed).map((o) => o.label);
    return passed.length ? w("office.passed", { options: passed.join("; ") }) : w("office.none_passed");
  }

  function renderTally(t) {
    document.getElementById("office-count").textContent = w("office.answered", t);
    const missing = (t.not_answered || []).map(name);
    document.getElementById("office-missing").textContent =
      `${w("office.missing")}: ${missing.length ? missing.join("; ") : w("office.nobody")}.`;
    const box = document.getElementById("office-tally");
    box.replaceChildren(...(t.questions || []).map((q, n) => el("div", { class: "office-question", dataset: { question: q.question_id } },
      el("h3", {}, `${n + 1}. ${q.text}`),
      el("table", { class: "office-figures" },
        el("thead", {}, el("tr", {}, el("th", {}, w("office.option")), el("th", {}, w("office.count")))),
        el("tbody", {}, (q.options || []).map((o) => el("tr", { dataset: { option: o.id } },
          el("td", {}, q.kind === "agree" ? (words[o.id] || o.label) : o.label),
          el("td", { class: "office-n" }, String(o.count), o.passed ? " ✓" : ""))))),
      el("p", { class: "muted office-outcome" }, w("office.required", { n: q.required }), " · ", outcome(q)),
      (q.comments || []).length ? el("ul", { class: "office-comments" },
        q.comments.map((c) => el("li", {}, `${name(c.user_id)}: ${c.comment}`))) : null)));
  }

  async function refresh() {
    try {
      const [form, tally] = await Promise.all([api("GET", base), api("GET", `${base}/tally`)]);
      boot.status = form.status;
      boot.report_state = form.report_state;
      boot.can_sign = form.can_sign_report;
      renderTally(tally);
      renderSteps();
    } catch (err) { say(failure(err), true); }
  }

  function renderSteps() {
    const show = (id, on) => { const b = document.getElementById(id); if (b) b.hidden = !on; };
    const m = boot.can_manage;
    show("office-open", m && boot.status === "draft");
    show("office-attach", m && boot.status === "draft");
    show("office-close", m && boot.status === "open");
    show("office-compose", m && boot.status === "closed" && boot.report_state === "none");
    show("office-sign", boot.is_signer && boot.can_sign);
    show("office-publish", m && boot.report_state === "signed");
    show("office-report", boot.report_state !== "none");
    show("office-bundle", m);
    document.getElementById("office-report-state").textContent =
      `${w("report.state")}: ${w(`report.${boot.report_state}`)}`;
  }

  async function step(method, path, body) {
    say("…");
    try {
      await api(method, path, body);
      say(w("office.done"));
      if (path.endsWith("/open") || path.endsWith("/close")) return window.location.reload();
      await refresh();
    } catch (err) { say(failure(err), true); }
  }

  const unsaved = mountChooser(boot, base);
  document.getElementById("office-open")?.addEventListener("click", () => {
    if (unsaved()) return say(w("who.save_first"), true); // send what the page shows, or nothing
    step("POST", `${base}/open`);
  });
  document.getElementById("office-close")?.addEventListener("click", () => {
    if (window.confirm(w("office.confirm_close"))) step("POST", `${base}/close`);
  });
  document.getElementById("office-compose")?.addEventListener("click", () => step("POST", `${base}/report`));
  document.getElementById("office-publish")?.addEventListener("click", () => step("POST", `${base}/report/publish`));
  document.getElementById("office-sign")?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const secret = document.getElementById("office-secret");
    const value = secret.value;
    secret.value = ""; // needed once per signature, never kept
    step("POST", `${base}/report/sign`, { secret: value });
  });
  document.getElementById("office-attach")?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("office-file");
    if (!input.files.length) return;
    const data = new FormData();
    data.append("file", input.files[0]);
    say("…");
    try { await api("POST", `${base}/attachments`, data); window.location.reload(); } catch (err) { say(failure(err), true); }
  });

  renderSteps();
  if (boot.status !== "draft") refresh();
  try {
    const socket = io({ transports: ["websocket", "polling"] });
    socket.on("opinion.tally", (data) => { if (data?.form_id === boot.form_id) refresh(); });
  } catch { /* no socket: the figures are fetched again after each step */ }
}

// ---------------------------------------------------------------- who is asked, who signs (a draft)
// The chooser (#office-who, rendered with the page from office_words.chooser) PATCHes recipient_ids,
// signer_title and, when changed, signer_id; the service checks they are members and that the form is
// still a draft. Answers a function telling whether the page shows changes not saved yet.
function mountChooser(boot, base) {
  const who = document.getElementById("office-who");
  if (!who || !boot.who?.editable) return () => false;
  const boxes = [...who.querySelectorAll('input[name="recipient"]')];
  const units = [...who.querySelectorAll(".who-unit")];
  const signer = document.getElementById("who-signer");
  const title = document.getElementById("who-signer-title");
  const status = document.getElementById("who-status");
  const members = (b) => (b.dataset.members || "").split(",").filter(Boolean);
  const chosen = () => boxes.filter((b) => b.checked).map((b) => Number(b.value));
  const state = () => JSON.stringify([chosen(), signer.value, title.value.trim()]);
  let saved = state();
  const tell = (text, bad = false) => { status.textContent = text; status.classList.toggle("error", bad); };

  const noKey = document.getElementById("who-signer-no-key");
  const withKey = new Set((noKey?.dataset.signers || "").split(",").filter(Boolean));

  function update() {
    if (noKey) noKey.hidden = !signer.value || withKey.has(signer.value);
    const ticked = new Set(chosen().map(String));
    document.getElementById("who-count").textContent = w("who.count", { n: ticked.size });
    for (const u of units) u.setAttribute("aria-pressed", String(members(u).every((id) => ticked.has(id))));
    if (state() !== saved) tell(w("who.unsaved"));
    else if (status.textContent === w("who.unsaved")) tell("");
  }
  const tick = (ids, on) => { for (const b of boxes) if (!ids || ids.includes(b.value)) b.checked = on; update(); };
  document.getElementById("who-all").addEventListener("click", () => tick(null, true));
  document.getElementById("who-none").addEventListener("click", () => tick(null, false));
  // A unit's button ticks its members; pressed again (all of them ticked), it unticks them.
  for (const u of units) u.addEventListener("click", () => tick(members(u), u.getAttribute("aria-pressed") !== "true"));
  who.addEventListener("change", update);
  title.addEventListener("input", update);

  who.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { recipient_ids: chosen(), signer_title: title.value.trim() || null };
    if (signer.value && Number(signer.value) !== boot.who.signer_id) body.signer_id = Number(signer.value);
    const button = document.getElementById("who-save");
    button.disabled = true;
    tell("…");
    try {
      const form = await api("PATCH", base, body);
      const asked = new Set((form.recipient_ids || []).map(String));
      for (const b of boxes) b.checked = asked.has(b.value);
      boot.who.signer_id = form.signer_id;
      signer.value = String(form.signer_id ?? "");
      title.value = form.signer_title || "";
      saved = state();
      update();
      const picked = signer.selectedOptions[0];
      const name = picked?.dataset.name || picked?.textContent.trim() || "—";
      tell(w("who.saved", { n: asked.size, signer: name }));
    } catch (err) { tell(failure(err), true); } finally { button.disabled = false; }
  });
  update();
  return () => state() !== saved;
}

// ---------------------------------------------------------------- drafting a new form
const draft = document.getElementById("opinion-new");
if (draft) {
  const list = document.getElementById("new-questions");
  const status = document.getElementById("new-status");

  function question(kind) {
    const n = list.children.length + 1;
    const fs = el("fieldset", { class: "opinion-question new-question", dataset: { kind } },
      el("legend", {}, `${n}. ${w(`new.kind_${kind}`)}`),
      el("label", { class: "opinion-comment" }, w("new.question_text"),
        el("textarea", { name: "text", rows: "2", required: true, maxlength: "2000" })),
      kind === "choice" ? el("label", { class: "opinion-comment" }, w("new.options"),
        el("textarea", { name: "options", rows: "3", required: true })) : null,
      kind === "choice" ? el("label", { class: "opinion-comment" }, w("new.max_choices"),
        el("input", { name: "max_choices", type: "number", min: "1", max: "20", value: "1" })) : null,
      el("button", { type: "button", class: "secondary", onclick: () => fs.remove() }, w("new.remove")));
    list.append(fs);
    fs.querySelector("textarea").focus();
  }

  document.getElementById("new-add-agree").addEventListener("click", () => question("agree"));
  document.getElementById("new-add-choice").addEventListener("click", () => question("choice"));
  draft.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = draft.elements;
    const closes = f.closes_at.value ? new Date(f.closes_at.value).toISOString() : null;
    const questions = [...list.querySelectorAll("fieldset[data-kind]")].map((fs) => {
      const q = { kind: fs.dataset.kind, text: fs.querySelector('[name="text"]').value.trim() };
      if (q.kind === "choice") {
        q.options = fs.querySelector('[name="options"]').value.split("\n").map((s) => s.trim()).filter(Boolean);
        q.min_choices = 1;
        q.max_choices = Number(fs.querySelector('[name="max_choices"]').value) || 1;
      }
      return q;
    });
    status.textContent = "…";
    try {
      const form = await api("POST", `/bodies/${f.body_id.value}/opinion-forms`, {
        title: f.title.value.trim(), explanation: f.explanation.value.trim() || null, closes_at: closes,
        allow_change: f.allow_change.checked, require_signature: f.require_signature.checked, questions });
      window.location.assign(`/opinions/${form.id}`);
    } catch (err) { status.textContent = failure(err); status.classList.add("error"); }
  });
}
