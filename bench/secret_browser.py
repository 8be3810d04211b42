"""Encryption time of a secret ballot in Chromium: the tablet's own code, timed in the page.

    .venv/bin/python -m bench.secret_browser --ballots 20

Debian's Chromium (/usr/bin/chromium) through Playwright loads a blank page whose import
map is the app's (``@noble/curves/`` and ``@noble/hashes/`` under ``/vendor/``), with the
files served from this checkout by request interception (no server needed), imports
``static/js/core/elgamal.js`` and times ``encryptBallot`` for a 3-option for/against/abstain
ballot (one choice) under a real committee key, one ballot after the other, after one warm-up.
Reported: milliseconds per ballot (p50, p99, max). Every ballot made is checked by the
Python verifier, so a fast but wrong encryption cannot pass. Not a test.
"""
from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402
from bench.fanout import pct  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ORIGIN = "http://bench.invalid"
PAGE = """<!doctype html><meta charset="utf-8"><title>bench</title>
<script type="importmap">{"imports": {"@noble/curves/": "/vendor/@noble/curves/",
                                      "@noble/hashes/": "/vendor/@noble/hashes/"}}</script>"""

SCRIPT = """async ([pk, boardId, n]) => {
  const eg = await import("/static/js/core/elgamal.js");
  await eg.encryptBallot(pk, boardId, 3, [0], 1, 1);  // warm-up: module compilation, tables
  const took = [], ballots = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    ballots.push(await eg.encryptBallot(pk, boardId, 3, [i % 3], 1, 1));
    took.push(performance.now() - t);
  }
  return {took, ballots};
}"""


def _serve(route) -> None:
    """Files from the checkout: /static/… as is, /vendor/<pkg>/… from node_modules; the page at /."""
    path = route.request.url[len(ORIGIN):].split("?", 1)[0]
    if path in ("", "/"):
        return route.fulfill(status=200, content_type="text/html", body=PAGE)
    if path.startswith("/static/"):
        file = ROOT / path.lstrip("/")
    elif path.startswith("/vendor/"):
        file = ROOT / "node_modules" / path[len("/vendor/"):]
    else:
        return route.fulfill(status=404, body="")
    if not file.is_file():
        return route.fulfill(status=404, body="")
    kind = "text/javascript" if file.suffix in (".js", ".mjs") else (mimetypes.guess_type(file.name)[0] or "text/plain")
    return route.fulfill(status=200, content_type=kind, body=file.read_bytes())


def chromium_encrypt_ms(ballots: int, poll: dict | None = None) -> dict:
    """Time ``ballots`` encryptions in Chromium; under ``poll``'s key and board id if given (else a fresh key)."""
    from playwright.sync_api import sync_playwright

    from meetings.voting import elgamal

    if poll is None:
        poll = {"public_key": elgamal.point_hex(elgamal._base(elgamal.random_scalar())), "board_id": "b" * 32}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.route(f"{ORIGIN}/**", _serve)
            page.goto(ORIGIN + "/")
            out = page.evaluate(SCRIPT, [poll["public_key"], poll["board_id"], ballots])
            agent = browser.version
        finally:
            browser.close()
    for ballot in out["ballots"]:  # the browser's ballots must be good ones
        elgamal.verify_ballot(poll["public_key"], poll["board_id"], 3, 1, 1, ballot)
    took = out["took"]
    return {"ballots": len(took), "p50": round(pct(took, 50), 1), "p99": round(pct(took, 99), 1),
            "max": round(max(took), 1), "chromium": agent, "verified": True}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ballots", type=int, default=20)
    ap.add_argument("--json", help="also write the result to this file")
    args = ap.parse_args()
    r = chromium_encrypt_ms(args.ballots)
    print(json.dumps(r, indent=1), flush=True)
    write_json(args.json, r)


if __name__ == "__main__":
    main()
