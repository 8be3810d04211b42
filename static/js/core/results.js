// Poll results as a horizontal bar chart (plain DOM, readable from the back of the hall
// and by screen readers: every bar carries its number as text).
import { el, t } from "./dom.js";
import { formatNumber } from "./format.js";

const ROLE_LABEL = { for: "option_for", against: "option_against", abstain: "option_abstain" };

export function optionLabel(o) {
  return o.role && ROLE_LABEL[o.role] ? t(ROLE_LABEL[o.role]) : o.label;
}

export function outcomeText(outcome) {
  if (outcome === "adopted") return t("result_adopted");
  if (outcome === "no_quorum") return t("result_no_quorum");
  return t("result_rejected");
}

/** A chart of result.options [{label, role, count}] with the outcome above it. */
export function resultChart(poll) {
  const result = poll.result || {};
  const options = result.options || [];
  const max = Math.max(1, ...options.map((o) => o.count || 0));
  return el("figure", { class: "chart", "data-testid": "result-chart" },
    el("figcaption", {},
      el("span", { class: "chart-title" }, poll.title || ""),
      el("strong", { class: `outcome ${result.outcome}` }, outcomeText(result.outcome))),
    el("ul", { class: "bars" }, options.map((o) => el("li", { class: `bar-row ${o.role || ""}` },
      el("span", { class: "bar-label" }, optionLabel(o)),
      el("span", { class: "bar-track" }, el("span", { class: "bar", style: `width:${(100 * (o.count || 0)) / max}%` })),
      el("span", { class: "bar-count" }, formatNumber(o.count || 0))))),
    result.cast !== undefined ? el("p", { class: "chart-note" },
      t("cast_of", { cast: formatNumber(result.cast), entitled: formatNumber(result.entitled ?? 0) })) : null);
}
