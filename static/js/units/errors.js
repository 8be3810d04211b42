// What a refused change of a unit means, in the page's language (templates/bodies/_unit_strings.html).
import { ApiError } from "../core/api.js";
import { t } from "../core/dom.js";

/** The message for `err` from a unit's REST call; `name` is the name the user typed (for 409 unit_exists). */
export function explain(err, { name = "" } = {}) {
  if (!(err instanceof ApiError)) return t("err_other", { message: err?.message || String(err) });
  if (err.code === "unit_exists") return t("err_unit_exists", { name });
  if (err.status === 409) return t("err_member_conflict");  // the unique (unit, user) row: another screen won
  if (err.code === "unknown_user") return t("err_unknown_user");
  if (err.status === 422) {
    // Schema errors name their fields ({"json": {"email": [...]}}); a service's Invalid says why in its message.
    const fields = Object.keys(err.details?.json || {});
    if (fields.length) return t("err_invalid_fields", { fields: fields.map((f) => t(`field_${f}`)).join(", ") });
    return t("err_invalid", { message: err.message });
  }
  if (err.status === 403) return t("err_forbidden");
  if (err.status === 404) return t("err_not_found");
  if (err.status === 0) return t("err_offline");
  return t("err_other", { message: err.message });
}

/** Show `text` in the message element `node` (or hide it when empty). */
export function say(node, text, kind = "error") {
  node.textContent = text || "";
  node.className = `form-status ${kind}`;
  node.hidden = !text;
}
