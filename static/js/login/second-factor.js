// The second login step: "use my key" asks the browser's authenticator (WebAuthn) and posts its
// answer to /login/second-factor/webauthn; codes go through the page's plain form.
import { getAssertion } from "../core/webauthn.js";

const button = document.querySelector("[data-webauthn-login]");
const status = document.querySelector("[data-webauthn-status]");
const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function useKey() {
  button.disabled = true;
  status.textContent = "";
  try {
    const options = await (await fetch("/login/second-factor/webauthn", { credentials: "same-origin" })).json();
    if (options.error) throw new Error(options.error.message);
    const assertion = await getAssertion(options);
    const resp = await fetch("/login/second-factor/webauthn", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(assertion),
    });
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.error?.message || resp.statusText);
    window.location.assign(data.redirect);
  } catch (err) {
    status.textContent = err.message || String(err);
    button.disabled = false;
  }
}

if (button && window.PublicKeyCredential) button.addEventListener("click", useKey);
else if (button) button.hidden = true;
