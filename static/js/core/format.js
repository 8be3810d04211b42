// Dates and numbers in the page's language (vi: 27/11/2026 14:05, 1.234; en: 11/27/2026, 1,234).
const locale = () => document.documentElement.lang || "vi";
const ZONE = "Asia/Ho_Chi_Minh";

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

export function formatPercent(fraction) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(fraction);
}

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short", timeZone: ZONE })
    .format(new Date(iso));
}

export function formatTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { timeStyle: "short", timeZone: ZONE }).format(new Date(iso));
}

/** mm:ss for a countdown; negative when over time ("-0:12"). */
export function formatClock(seconds) {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(Math.round(seconds));
  return `${sign}${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
