"""A passkey in a real Chromium: its virtual authenticator (CDP WebAuthn), the product's JS, the real server.

The delegate registers a passkey with static/js/core/webauthn.js, logs out, logs in with the password
and passes the second step with the key (static/js/login/second-factor.js). The page runs on
``localhost``: WebAuthn refuses an IP address as relying party id.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANDSCAPE, WAIT_MS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

REGISTER = """async () => {
  const { createCredential } = await import("/static/js/core/webauthn.js");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const offer = await (await fetch("/api/v1/users/me/factors/webauthn/options")).json();
  const credential = await createCredential(offer.options);
  const resp = await fetch("/api/v1/users/me/factors/webauthn", { method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ state: offer.state, credential, label: "virtual" }) });
  return [resp.status, await resp.json()];
}"""


def test_passkey_login_in_chromium(browser, server, seeded):
    base = server.url.replace("127.0.0.1", "localhost")
    ctx = browser.new_context(viewport=LANDSCAPE, base_url=base, locale="vi-VN")
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})

        page.goto("/login")
        page.fill("#username", "delegate")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        status, body = page.evaluate(REGISTER)
        assert status == 201, body
        assert len(body["recovery_codes"]) == 10

        page.click("form.logout button[type=submit]")
        page.wait_for_url("**/login")
        page.goto("/login?next=/archive")
        page.fill("#username", "delegate")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url("**/login/second-factor")
        page.get_by_test_id("use-key").click()
        page.wait_for_url("**/archive")
        expect(page.locator("form.logout .who")).to_be_visible()
    finally:
        ctx.close()
