"""The ballot cryptography in Chromium, through the room page's real import map and /vendor/.

The delegate's room page loads static/js/core/elgamal.js as its panels do (a dynamic import);
its bare ``@noble/…`` imports resolve through the page's import map to the server's /vendor/
copies, under the page's real Content-Security-Policy. Chromium encrypts a 3-option ballot (timed),
seals and opens a key share with WebCrypto, and decrypts its part of a tally; Python's
meetings.voting.elgamal verifies what it made.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from meetings.voting import elgamal as eg

pytestmark = pytest.mark.browser

BOARD = "b0a2d000" * 4
RUNS = 10

BROWSER_SIDE = """async ({ publicKey, boardId, runs, share, aggregate }) => {
  const eg = await import("/static/js/core/elgamal.js");
  let start = performance.now();
  const ballot = eg.encryptBallot(publicKey, boardId, 3, [1], 1, 1);
  const firstMs = performance.now() - start;  // includes the base point's precomputed table
  start = performance.now();
  for (let i = 0; i < runs; i++) eg.encryptBallot(publicKey, boardId, 3, [i % 3], 1, 1);
  const ms = (performance.now() - start) / runs;
  const hash = eg.ballotHash(boardId, ballot);
  start = performance.now();
  const sealed = await eg.sealShare(BigInt("0x" + share), "Mật khẩu của tôi");
  const opened = await eg.openShare(sealed, "Mật khẩu của tôi");
  const sealMs = performance.now() - start;
  let refused = false;
  try { await eg.openShare(sealed, "sai"); } catch (err) { refused = err instanceof eg.InvalidProof; }
  const device = eg.CommitteeMemberDevice.fromKeyShare("aa".repeat(16), 1, 2, 2, opened);
  return { ballot, hash, code: eg.trackingCode(hash), firstMs, ms, sealMs, refused, sealed,
           partials: device.partialDecrypt(boardId, aggregate), verificationKey: device.verificationKey };
}"""


def test_chromium_encrypts_through_the_import_map_and_python_verifies(tablet, seeded, capsys):
    page = tablet("delegate")
    vendor = []
    page.on("response", lambda r: vendor.append((r.url, r.status)) if "/vendor/@noble/" in r.url else None)
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"/meetings/{seeded.meeting_id}/room")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")

    secret = eg.random_scalar()
    y = eg.point_hex(eg._base(secret))
    share = eg.random_scalar()
    aggregate = eg.aggregate([(eg.encrypt_ballot(y, BOARD, 3, [c], 1, 1), 1) for c in (0, 2, 2)], 3)
    out = page.evaluate(BROWSER_SIDE, {"publicKey": y, "boardId": BOARD, "runs": RUNS,
                                       "share": f"{share:064x}",
                                       "aggregate": aggregate})

    eg.verify_ballot(y, BOARD, 3, 1, 1, out["ballot"])
    assert eg.ballot_hash(BOARD, out["ballot"]) == out["hash"] and eg.tracking_code(out["hash"]) == out["code"]
    assert out["refused"], "a wrong passphrase must not open the share"
    assert out["sealed"]["iterations"] == 310_000 and eg.scalar_hex(share) not in str(out["sealed"])
    assert out["verificationKey"] == eg.point_hex(eg._base(share))  # the share came back whole
    for i, (item, partial) in enumerate(zip(aggregate, out["partials"], strict=True), 1):
        eg.verify_partial(BOARD, i, 1, out["verificationKey"], item, partial)
    assert vendor and all(status in (200, 304) for _, status in vendor), vendor
    assert {url.split("/vendor/")[1].split("/")[1] for url, _ in vendor} == {"curves", "hashes"}
    assert csp_errors == [] and page.errors == []
    with capsys.disabled():
        print(f"\nChromium: encryptBallot 3 options {out['ms']:.1f} ms per ballot (first {out['firstMs']:.1f} ms); "
              f"seal + open the share (PBKDF2 310,000 × 2) {out['sealMs']:.0f} ms")
