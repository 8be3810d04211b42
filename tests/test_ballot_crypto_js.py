"""The browser's ballot cryptography (static/js/core/elgamal.js) and the server's (elgamal.py) agree.

Two checks: node's own tests (tests/js/elgamal.test.mjs: every shared vector reproduced, refusals,
the sealed share), and a mixed committee — members 1 and 2 are JavaScript devices
(tests/js/make_messages.mjs, a fresh node process per step), member 3 the Python device — whose
every message, ballot and partial decryption made in JavaScript is verified by Python.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from meetings.voting import elgamal as eg
from meetings.voting import elgamal_dkg as dkg
from tests.tools import require_tool

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
UID = "0f" * 16
BOARD = "c0ffee00" * 4


@pytest.fixture(scope="module", autouse=True)
def node():
    if os.environ.get("TEST_DB") == "postgresql":
        pytest.skip("no database here: the SQLite run covers it")
    require_tool("node", install="nodejs")
    require_tool("@noble/curves", present=(ROOT / "node_modules/@noble/curves/package.json").exists(),
                 install="it with `make node`")


def js(request: dict) -> dict:
    """One step of the JavaScript devices (make_messages.mjs)."""
    done = subprocess.run(["node", str(JS / "make_messages.mjs")], input=json.dumps(request), capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_node_reproduces_every_vector_and_refuses_what_python_refuses():
    done = subprocess.run(["node", "--test", str(JS / "elgamal.test.mjs")], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout


def _by_int(d: dict) -> dict:
    return {int(k): v for k, v in d.items()}


@pytest.fixture(scope="module")
def committee():
    """A 2-of-3 ceremony: JavaScript members 1 and 2, the Python member 3; Python checks JS's messages."""
    py3 = dkg.CommitteeMemberDevice(UID, 3, 2, 3)
    started = js({"step": "round1", "uid": UID, "threshold": 2, "size": 3, "members": [1, 2]})
    round1 = {**_by_int(started["round1"]), 3: py3.round1()}
    for i in (1, 2):
        dkg.verify_round1(UID, i, 2, round1[i])  # the JS proofs of knowledge hold in Python
    sent = js({"step": "round2", "states": started["states"], "round1": round1})
    round2 = {**_by_int(sent["round2"]), 3: py3.round2(round1)}
    to = {j: {i: next(s for s in round2[i] if s["to"] == j) for i in round2 if i != j} for j in (1, 2, 3)}
    keys = {3: py3.confirm(round1, to[3])}  # Python opens JS's shares and checks them with Feldman's rule
    confirmed = js({"step": "confirm", "states": sent["states"], "round1": round1, "shares": {1: to[1], 2: to[2]}})
    assert confirmed["complaints"] == {}
    keys |= _by_int(confirmed["keys"])
    return {"round1": round1, "round2": round2, "to": to, "keys": keys, "states": confirmed["states"], "py3": py3,
            "commitments": {i: m["commitments"] for i, m in round1.items()}}


def test_python_checks_the_javascript_ceremony(committee):
    for j, key in committee["keys"].items():
        assert dkg.expected_verification_key(j, committee["commitments"]) == key
    assert committee["py3"].key_share is not None


def test_a_bad_share_from_python_is_a_complaint_on_the_javascript_device(committee):
    to1 = dict(committee["to"][1])
    bad = bytearray(bytes.fromhex(to1[3]["ciphertext"]))
    bad[0] ^= 1
    to1[3] = {**to1[3], "ciphertext": bad.hex()}
    # The kept state still holds the ceremony's secrets (transport key, polynomial): confirm again.
    answer = js({"step": "confirm", "states": {"1": committee["states"]["1"]}, "round1": committee["round1"],
                 "shares": {1: to1}})
    assert answer["complaints"] == {"1": 3} and answer["keys"] == {}


def test_javascript_ballots_and_partials_verify_and_count_in_python(committee):
    y = dkg.committee_public_key(committee["commitments"])
    choices = [[0], [2], [2], [1, 2], []]
    made = js({"step": "ballots", "public_key": y, "board_id": BOARD, "n_options": 3, "min_choices": 0,
               "max_choices": 2, "choices": choices})
    for ballot, h, code in zip(made["ballots"], made["hashes"], made["codes"], strict=True):
        eg.verify_ballot(y, BOARD, 3, 0, 2, ballot)
        assert eg.ballot_hash(BOARD, ballot) == h and eg.tracking_code(h) == code
    with pytest.raises(eg.InvalidProof):  # the same ballot under another poll's rules
        eg.verify_ballot(y, BOARD, 3, 1, 1, made["ballots"][0])
    assert len(set(made["hashes"])) == len(choices)

    weights = [1, 1, 2, 1, 1]
    agg = eg.aggregate(list(zip(made["ballots"], weights, strict=True)), 3)
    js_partials = _by_int(js({"step": "partials", "states": committee["states"], "board_id": BOARD,
                              "aggregate": agg})["partials"])
    partials = {**js_partials, 3: committee["py3"].partial_decrypt(BOARD, agg)}
    for j, shares in partials.items():
        for i, (item, share) in enumerate(zip(agg, shares, strict=True), 1):
            eg.verify_partial(BOARD, i, j, committee["keys"][j], item, share)
    with pytest.raises(eg.InvalidProof):
        eg.verify_partial(BOARD, 1, 1, committee["keys"][2], agg[0], partials[1][0])
    expected = [1, 1, 4]  # option 1: one ballot; option 2: one; option 3: 1 + 2 (weight 2) + 1
    for pair in ((1, 2), (1, 3), (2, 3)):
        assert eg.combine(BOARD, agg, {j: partials[j] for j in pair}, sum(weights)) == expected, pair
