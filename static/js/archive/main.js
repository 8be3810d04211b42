// Archive: search published minutes (GET /api/v1/archive: body, date range, title, full text),
// download the signed minutes and the meeting's archival bundle, verify any signed PDF by upload.
import { api, upload } from "../core/api.js";
import { $, el, fill, t } from "../core/dom.js";
import { formatDateTime } from "../core/format.js";

const results = $("#results");
const summary = $("#result-summary");

api("GET", "/bodies").then((bodies) => {
  $("#body").append(...(bodies || []).map((b) => el("option", { value: b.id }, b.name)));
}).catch(() => {});

function query() {
  const params = new URLSearchParams();
  const set = (key, value) => value && params.set(key, value);
  set("body_id", $("#body").value);
  set("title", $("#title").value.trim());
  set("q", $("#q").value.trim());
  set("date_from", $("#from").value);
  set("date_to", $("#to").value);
  return params;
}

function row(hit) {
  return el("tr", { dataset: { meetingId: hit.meeting_id } },
    el("td", {}, el("strong", {}, hit.meeting_title),
      el("div", { class: "muted" }, [hit.body_name, hit.number].filter(Boolean).join(" · ")),
      hit.snippet ? el("p", { class: "snippet" }, hit.snippet) : null),
    el("td", {}, formatDateTime(hit.starts_at)),
    el("td", {}, (hit.signers || []).join(", ")),
    el("td", { class: "downloads" },
      el("a", { class: "button secondary", href: hit.file_url, download: "", "data-testid": "minutes-link" },
        t("download_minutes", { version: hit.version })),
      el("a", { class: "button secondary", href: hit.bundle_url, download: "", "data-testid": "bundle-link" },
        t("download_bundle"))));
}

$("#search").addEventListener("submit", async (e) => {
  e.preventDefault();
  summary.textContent = t("searching");
  try {
    const data = await api("GET", `/archive?${query()}`);
    const hits = data.results || [];
    summary.textContent = hits.length ? t("archive_found", { n: data.total }) : t("no_results");
    fill(results, hits.map(row));
  } catch (err) {
    summary.textContent = "";
    fill(results, el("tr", {}, el("td", { colspan: 4, class: "error-box", role: "alert" }, t("error", { message: err.message }))));
  }
});

$("#verify").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("#vfile").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const box = $("#verify-result");
  fill(box, el("p", {}, t("verifying")));
  try {
    const r = await upload("/verification", form);
    const ok = r.signed && r.valid && r.intact && !r.tampered;
    let verdict = t("verify_bad");
    if (!r.signed) verdict = t("verify_unsigned");
    else if (ok && r.trusted) verdict = t("verify_ok", { n: (r.signatures || []).length });
    else if (ok) verdict = t("verify_untrusted");
    fill(box, el("p", { class: ok ? "outcome adopted" : "outcome rejected", "data-testid": "verify-verdict" }, verdict),
      el("ul", {}, (r.signatures || []).map((s) => el("li", {},
        [s.signer_name || s.subject || "", s.signed_at ? formatDateTime(s.signed_at) : ""].filter(Boolean).join(" — ")))));
  } catch (err) {
    fill(box, el("p", { class: "error-box", role: "alert" }, t("error", { message: err.message })));
  }
});
