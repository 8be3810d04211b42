// The console's own translated strings (templates/console/_strings.html), with the
// shared ones (templates/room/_strings.html) as the fallback.
import { readJSON, t } from "../core/dom.js";

let strings = null;

/** Like core t(): the string `key` with {name} placeholders filled from `vars`. */
export function ct(key, vars = {}) {
  if (strings === null) strings = readJSON("console-strings");
  if (!(key in strings)) return t(key, vars);
  return strings[key].replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Whether the console's table has `key` (to prefer a translated text over the server's message). */
export function hasString(key) {
  if (strings === null) strings = readJSON("console-strings");
  return key in strings;
}
