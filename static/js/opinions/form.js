// The member's opinion form (templates/opinions/form.html): sends the answer as JSON to
// PUT /api/v1/opinion-forms/<id>/answer without reloading, checks the number of choices first,
// and says what happened in the member's language (the words come with the page: #opinion-words).
// Without JavaScript the form posts to the page itself, which calls the same service.
import { api, ApiError } from "../core/api.js";

const root = document.getElementById("opinion-form");
const form = document.getElementById("opinion-answer");
const words = JSON.parse(document.getElementById("opinion-words")?.textContent || "{}");
const done = document.getElementById("opinion-done");
const failed = document.getElementById("opinion-error");
const send = document.getElementById("opinion-send");

function say(el, text) {
  for (const other of [done, failed]) other.hidden = other !== el;
  el.textContent = text;
  el.hidden = false;
  el.scrollIntoView({ block: "nearest" });
}

/** The answers as the API takes them; null (and the message shown) when a question is not answered right. */
export function collect(formEl) {
  const answers = [];
  for (const fs of formEl.querySelectorAll("fieldset[data-question]")) {
    const id = Number(fs.dataset.question);
    const comment = fs.querySelector("textarea")?.value.trim() || "";
    const picked = [...fs.querySelectorAll("input:checked")].map((i) => i.value);
    if (fs.dataset.kind === "agree") {
      if (picked.length !== 1) return { error: words.incomplete_answer };
      if (picked[0] === "other" && !comment) return { error: words.comment_required };
      answers.push({ question_id: id, choice: picked[0], comment });
    } else {
      const min = Number(fs.dataset.min), max = Number(fs.dataset.max);
      if (picked.length < min || picked.length > max) {
        return { error: (words.choose || "").replace("{min}", min).replace("{max}", max) };
      }
      answers.push({ question_id: id, options: picked, comment });
    }
  }
  return { answers };
}

if (root && form && !form.hasAttribute("data-readonly")) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const got = collect(form);
    if (got.error) return say(failed, got.error);
    const body = { answers: got.answers };
    const secret = form.querySelector('input[name="secret"]')?.value;
    if (secret) body.secret = secret;
    const label = send.textContent;
    send.disabled = true;
    send.textContent = words.sending;
    try {
      const saved = await api("PUT", root.dataset.api, body);
      say(done, words.sent.replace("{revision}", saved.revision) + (saved.signed ? ` ${words.signed}` : ""));
      send.textContent = words.change;
      const pass = form.querySelector('input[name="secret"]');
      if (pass) pass.value = ""; // the passphrase is needed once per signature, never kept
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "offline";
      say(failed, words[code] || err.message || words.offline);
      send.textContent = label;
      if (code === "deadline_passed") form.querySelectorAll("fieldset").forEach((fs) => { fs.disabled = true; });
    } finally {
      if (send.textContent !== words.sending) send.disabled = false;
    }
  });
}

// The office assigns follow-up tasks from a closed form's result (the page adds #opinion-assign for the office
// only; the task REST checks again). The shared form is loaded only then.
const assignBox = document.getElementById("opinion-assign");
if (assignBox) {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  Promise.all([import("../tasks/assign.js"), import("../tasks/strings.js")]).then(([{ mountSourceTasks }, { translatePage }]) => {
    translatePage(assignBox.parentElement);
    mountSourceTasks(assignBox, { bodyId: boot.body_id, source: { kind: "opinion", id: boot.form_id },
      prefill: { title: boot.title }, prefix: "op-task" });
  });
}
