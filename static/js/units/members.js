// A unit's members on the units page: who works there and who heads it; add one of the body's members,
// make or unmake the head, take someone out. Each change is one REST call, then the list is read back.
import { api } from "../core/api.js";
import { el, t, toast } from "../core/dom.js";
import { explain, say } from "./errors.js";

/**
 * The <tr> under a unit with its members and the form to add one.
 * `people`: the body's members (GET /bodies/<id>/members); `reload(note)` reads the units back and
 * re-renders, showing `note` (an error that must survive the re-render) next to this form again.
 */
export function membersRow(unit, people, { note = "", reload }) {
  const msg = el("p", { class: "form-status", role: "alert", hidden: true });
  const call = async (method, path, body, okText) => {
    try {
      await api(method, path, body);
    } catch (err) {
      // A 409 means another screen changed this unit: show the fresh list with the reason beside it.
      if (err.status === 409) await reload(explain(err));
      else say(msg, explain(err));
      return;
    }
    toast(okText);
    await reload();
  };

  const base = `/units/${unit.id}/members`;
  const list = unit.members.length
    ? el("ul", { class: "plain unit-member-list" }, unit.members.map((m) => el("li", { dataset: { userId: m.user_id } },
      el("span", { class: "member-name" }, m.full_name), " ", el("span", { class: "muted" }, `(${m.username})`),
      m.is_head ? el("span", { class: "badge head" }, t("head")) : null,
      el("button", { type: "button", class: "secondary",
        onclick: () => call("POST", base, { user_id: m.user_id, is_head: !m.is_head }, t("saved")) },
      t(m.is_head ? "unmake_head" : "make_head")),
      el("button", { type: "button", class: "danger",
        onclick: () => call("DELETE", `${base}/${m.user_id}`, undefined, t("member_removed", { name: m.full_name })) },
      t("remove")))))
    : el("p", { class: "muted" }, t("no_members"));

  const inUnit = new Set(unit.members.map((m) => m.user_id));
  const candidates = people.filter((p) => !inUnit.has(p.user_id));
  const select = el("select", { id: `add-${unit.id}`, name: "user_id" }, el("option", { value: "" }, t("choose")),
    candidates.map((p) => el("option", { value: p.user_id }, `${p.full_name} (${p.username})`)));
  const head = el("input", { type: "checkbox", name: "is_head" });
  const form = candidates.length || !people.length
    ? el("form", {
      class: "member-add",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const person = candidates.find((p) => String(p.user_id) === select.value);
        if (!person) {
          say(msg, t("err_choose_member"));
          select.focus();
          return;
        }
        await call("POST", base, { user_id: person.user_id, is_head: head.checked },
          t("member_added", { name: person.full_name }));
      },
    }, el("label", { for: select.id }, t("choose_member")), select,
    el("label", { class: "check" }, head, t("as_head")), el("button", { type: "submit" }, t("add_member")))
    : el("p", { class: "muted" }, t("no_candidates"));
  if (note) say(msg, note);
  return el("tr", { class: "unit-members" }, el("td", { colspan: 6 }, list, form, msg));
}
