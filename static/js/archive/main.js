// Archive: search meetings with filters, download minutes, verify a signed PDF by upload.
import { api, upload } from "../core/api.js";
import { $, el, fill, t } from "../core/dom.js";
import { formatDateTime } from "../core/format.js";

$("#search").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("#q").value.trim().normalize("NFC").toLocaleLowerCase();
  const from = $("#from").value;
  const to = $("#to").value;
  const status = $("#status").value;
  let meetings = [];
  try {
    const data = await api("GET", "/meetings");
    meetings = Array.isArray(data) ? data : data.meetings || data.items || [];
  } catch (err) {
    fill($("#results"), el("tr", {}, el("td", { colspan: 4, class: "error-box" }, t("error", { message: err.message }))));
    return;
  }
  // Filtering here keeps the page working with the meetings list alone; an archive search API can replace it.
  const hits = meetings.filter((m) => (!q || m.title.normalize("NFC").toLocaleLowerCase().includes(q))
    && (!status || m.status === status)
    && (!from || m.starts_at.slice(0, 10) >= from) && (!to || m.starts_at.slice(0, 10) <= to));
  if (!hits.length) {
    fill($("#results"), el("tr", {}, el("td", { colspan: 4 }, t("no_results"))));
    return;
  }
  fill($("#results"), hits.map((m) => el("tr", {},
    el("td", {}, m.title), el("td", {}, formatDateTime(m.starts_at)), el("td", {}, m.status),
    el("td", { class: "downloads", dataset: { meetingId: m.id } }))));
  for (const cell of document.querySelectorAll(".downloads")) {
    api("GET", `/meetings/${cell.dataset.meetingId}/minutes`).then((list) => fill(cell, list.map((mi) => el("a", {
      class: "button secondary", href: `/api/v1/minutes/${mi.id}/file`, download: "",
    }, `${t("minutes")} v${mi.version}`)))).catch(() => {});
  }
});

$("#verify").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("#vfile").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const box = $("#verify-result");
  try {
    const r = await upload("/verification", form);
    const ok = r.signed && r.valid && r.intact && !r.tampered;
    fill(box, el("p", { class: ok ? "outcome adopted" : "outcome rejected" },
      ok ? t("verify_ok", { n: (r.signatures || []).length }) : t("verify_bad")),
    el("ul", {}, (r.signatures || []).map((s) => el("li", {}, [s.signer_name || s.subject || "", s.signed_at ? formatDateTime(s.signed_at) : ""].join(" — ")))));
  } catch (err) {
    fill(box, el("p", { class: "error-box", role: "alert" }, t("error", { message: err.message })));
  }
});
