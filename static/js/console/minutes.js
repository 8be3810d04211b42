// The minutes part of the console: the draft with a conclusion per item, the PDF, and
// the two signatures (secretary first, then chair), each re-entering the passphrase.
import { api } from "../core/api.js";
import { $, el, fill, t, toast } from "../core/dom.js";

export function initMinutes({ meetingId, store }) {
  let minutes = null;
  const status = $("#m-status");

  async function load() {
    try {
      const all = await api("GET", `/meetings/${meetingId}/minutes`);
      minutes = all[0] || null;
    } catch {
      minutes = null;
    }
    render();
  }

  function render() {
    const fileLink = $("#m-file");
    fileLink.hidden = !minutes;
    if (minutes) {
      fileLink.href = `/api/v1/minutes/${minutes.id}/file`;
      status.textContent = `${t("minutes")} v${minutes.version}: ${t(`minutes_${minutes.status}`)}`;
    }
    const conclusions = minutes?.conclusions || {};
    fill($("#conclusions"), store.state.agenda.map((item) => {
      const id = `concl-${item.id}`;
      return el("div", { class: "conclusion" },
        el("label", { for: id }, item.title),
        el("textarea", { id, rows: 2, dataset: { itemId: item.id }, disabled: !minutes || minutes.status !== "draft",
          onchange: (e) => saveConclusion(item.id, e.target.value) }, conclusions[item.id] || conclusions[String(item.id)] || ""));
    }));
  }

  async function saveConclusion(itemId, text) {
    try {
      minutes = await api("PATCH", `/minutes/${minutes.id}`, { conclusions: { [itemId]: text } });
      toast(t("saved"));
    } catch (err) {
      toast(t("error", { message: err.message }), "error");
    }
  }

  $("#m-draft").addEventListener("click", async () => {
    try {
      if (!minutes || minutes.status !== "draft") {
        minutes = await api("POST", `/meetings/${meetingId}/minutes`, { language: document.documentElement.lang === "en" ? "en" : "vi" });
      }
      toast(t("minutes_saved"));
      render();
    } catch (err) {
      toast(t("error", { message: err.message }), "error");
    }
  });

  for (const button of [$("#m-sign-secretary"), $("#m-sign-chair")]) {
    button.addEventListener("click", async () => {
      if (!minutes) return toast(t("error", { message: t("no_minutes") }), "error");
      const secret = window.prompt(t("sign_prompt"));
      if (!secret) return;
      try {
        if (minutes.status === "draft") minutes = await api("POST", `/minutes/${minutes.id}/finalize`);
        await api("POST", `/minutes/${minutes.id}/signatures`, { secret });
        toast(t("signed"));
        await load();
      } catch (err) {
        toast(t("error", { message: err.message }), "error");
      }
    });
  }
  store.addEventListener("change", (e) => e.detail.what === "snapshot" && render());
  load();
}
