// The minutes part of the console: the draft with a conclusion per agenda item, the
// watermarked draft PDF, finalize, the two digital signatures (secretary first, then
// chair, each re-entering the passphrase — never stored), verification and publishing.
// Progress comes as "minutes.progress" notices to the signer's own devices; other
// consoles follow through the meeting's "minutes.status" events.
import { api } from "../core/api.js";
import { $, el, fill, t, toast } from "../core/dom.js";
import { ct } from "./strings.js";

const NEXT_SIGNER = { finalized: "secretary", secretary_signed: "chair" };

export function initMinutes({ meetingId, store, live, me }) {
  let minutes = null;
  let items = [];
  let signingRole = null;
  const report = (err) => toast(t("error", { message: err.message }), "error");
  const show = (sel, on) => { $(sel).hidden = !on; };

  async function load() {
    try {
      const [all, agenda] = await Promise.all([api("GET", `/meetings/${meetingId}/minutes`),
        api("GET", `/meetings/${meetingId}/items`)]);
      minutes = all[0] || null;
      items = agenda.flatMap((i) => [i, ...(i.sub_items || [])]);
    } catch (err) {
      if (err.status !== 404) report(err);
    }
    render();
  }

  function statusText(status) {
    const key = `minutes_${status}`;
    return ct(key) === key ? status : ct(key);
  }

  function render() {
    const st = minutes?.status;
    const status = $("#m-status");
    status.dataset.status = st || "none";
    status.textContent = minutes ? ct("minutes_state", { version: minutes.version, status: statusText(st) })
      : ct("minutes_none");
    const prep = !!me.can_prepare; // composing, finalizing and publishing are the secretariat's
    show("#m-draft", prep && !minutes);
    show("#m-refresh", st === "draft");
    show("#m-finalize", prep && st === "draft");
    show("#m-file", !!minutes);
    if (minutes) $("#m-file").href = `/api/v1/minutes/${minutes.id}/file`;
    $("#m-file").textContent = st === "draft" ? ct("open_draft") : ct("open_pdf");
    const next = NEXT_SIGNER[st];
    for (const role of ["secretary", "chair"]) {
      const btn = $(`#m-sign-${role}`);
      btn.hidden = next !== role;
      btn.disabled = me.role !== role; // only the meeting's secretary / chair can sign in that role
    }
    show("#m-verify", !!minutes && !["draft"].includes(st));
    show("#m-publish", prep && st === "signed");
    if (!next) closeSignForm();
    const conclusions = minutes?.conclusions || {};
    const editable = !minutes || (prep && st === "draft");
    const box = $("#conclusions");
    const shown = new Map([...box.querySelectorAll("textarea")].map((ta) => [ta.dataset.itemId, ta]));
    if (shown.size === items.length && items.every((item) => shown.has(String(item.id)))) {
      // Update in place, keyed by item: a re-render (another device's change, a minutes.status event)
      // must not replace a textarea being edited, or the typing is lost and its change event never fires.
      items.forEach((item) => {
        const ta = shown.get(String(item.id));
        const text = conclusions[String(item.id)] ?? item.conclusion ?? "";
        ta.disabled = !editable;
        if (ta.value === ta.defaultValue && document.activeElement !== ta) ta.value = ta.defaultValue = text;
        if (box.lastElementChild !== ta.parentElement) box.append(ta.parentElement); // the agenda's order
      });
      return;
    }
    fill(box, items.map((item) => {
      const id = `concl-${item.id}`;
      const text = conclusions[String(item.id)] ?? item.conclusion ?? "";
      return el("div", { class: "conclusion" },
        el("label", { for: id }, item.title),
        el("textarea", { id, rows: 2, dataset: { itemId: item.id }, disabled: !editable,
          onchange: (e) => saveConclusion(item, e.target) }, text));
    }));
  }

  async function saveConclusion(item, textarea) {
    const text = textarea.value;
    try {
      if (minutes) minutes = await api("PATCH", `/minutes/${minutes.id}`, { conclusions: { [item.id]: text } });
      else item.conclusion = (await api("PATCH", `/items/${item.id}`, { conclusion: text || null })).conclusion;
      textarea.defaultValue = text; // saved: no longer an edit in progress, later renders may update it
      toast(t("saved"));
    } catch (err) { report(err); }
  }

  async function run(fn) {
    try { await fn(); } catch (err) { report(err); }
    render();
  }

  $("#m-draft").addEventListener("click", () => run(async () => {
    minutes = await api("POST", `/meetings/${meetingId}/minutes`,
      { language: document.documentElement.lang === "en" ? "en" : "vi" });
    toast(t("minutes_saved"));
  }));
  $("#m-refresh").addEventListener("click", () => run(async () => {
    await load();
    toast(ct("minutes_refreshed"));
  }));
  $("#m-finalize").addEventListener("click", () => {
    if (!window.confirm(ct("finalize_confirm"))) return;
    run(async () => {
      startProgress();
      minutes = await api("POST", `/minutes/${minutes.id}/finalize`);
      toast(ct("finalized"));
    });
  });
  $("#m-publish").addEventListener("click", () => run(async () => {
    minutes = await api("POST", `/minutes/${minutes.id}/publish`);
    toast(ct("published_minutes"));
  }));
  $("#m-verify").addEventListener("click", () => verify());

  // ------------------------------------------------------------------ signing
  function openSignForm(role) {
    signingRole = role;
    $("#sign-label").textContent = `${ct("passphrase")} — ${ct(`role_name_${role}`)}`;
    $("#sign-error").hidden = true;
    $("#sign-form").hidden = false;
    $("#sign-secret").value = "";
    $("#sign-secret").focus();
  }
  function closeSignForm() {
    signingRole = null;
    $("#sign-form").hidden = true;
    $("#sign-secret").value = "";
  }
  for (const role of ["secretary", "chair"]) $(`#m-sign-${role}`).addEventListener("click", () => openSignForm(role));
  $("#sign-cancel").addEventListener("click", closeSignForm);
  $("#sign-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const secret = $("#sign-secret").value;
    $("#sign-secret").value = ""; // the passphrase lives only for this one request
    if (!secret || !minutes || !signingRole) return;
    $("#sign-submit").disabled = true;
    $("#sign-error").hidden = true;
    startProgress();
    try {
      await api("POST", `/minutes/${minutes.id}/signatures`, { secret });
      closeSignForm();
      toast(t("signed"));
      await load();
      await verify();
    } catch (err) {
      $("#m-progress").hidden = true;
      const box = $("#sign-error");
      box.textContent = err.code === "wrong_passphrase" ? ct("wrong_passphrase") : t("error", { message: err.message });
      box.hidden = false;
      $("#sign-secret").focus();
    } finally {
      $("#sign-submit").disabled = false;
    }
  });

  function startProgress() {
    $("#m-progress").hidden = false;
    $("#m-progress progress").value = 0;
    $("#m-progress-text").textContent = "";
  }
  live.addEventListener("notice", (e) => {
    const { name, data } = e.detail;
    if (name !== "minutes.progress" || !minutes || data?.minutes_id !== minutes.id) return;
    $("#m-progress").hidden = false;
    $("#m-progress progress").value = data.percent;
    const key = `stage_${data.stage}`;
    $("#m-progress-text").textContent = ct(key) === key ? ct("stage_other", { stage: data.stage }) : ct(key);
    $("#m-progress").dataset.stage = data.stage;
  });
  // Another console (the chair's, the secretary's) moved the minutes along: follow.
  live.addEventListener("minutes.status", () => load());

  async function verify() {
    if (!minutes) return;
    const box = $("#m-verification");
    try {
      const result = await api("GET", `/minutes/${minutes.id}/verification`);
      const sigs = result.signatures || [];
      const good = sigs.filter((s) => s.valid && s.trusted && s.intact).length;
      fill(box, el("h3", {}, ct("verify_title")),
        el("p", { class: result.valid && result.trusted ? "verify-ok" : "verify-bad", "data-testid": "verify-summary",
          dataset: { valid: String(good) } },
        result.valid && !result.tampered ? t("verify_ok", { n: good }) : t("verify_bad")),
        el("ul", { class: "verify-list" }, sigs.map((s) => el("li", { class: s.valid && s.intact ? "ok" : "bad" },
          ct("verify_sig", { role: ct(`role_name_${s.role}`), signer: s.signer,
            result: !(s.valid && s.intact) ? ct("verify_invalid") : s.trusted ? ct("verify_valid") : ct("verify_untrusted") })))));
    } catch (err) { report(err); }
  }

  store.addEventListener("change", (e) => e.detail.what === "snapshot" && render());
  load().then(() => minutes && minutes.status !== "draft" && verify());
}
