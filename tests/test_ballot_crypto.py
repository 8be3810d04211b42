"""The encrypted-ballot protocol (meetings/voting/elgamal.py) and the stand-alone board verifier.

Real libsodium throughout: ballots encrypted and checked, a key ceremony run by simulated member
devices, tallies decrypted by any k of n; every kind of tampering refused with InvalidProof; the
vectors file reproduced; the verifier run as a function and as a script copied alone.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pysodium
import pytest

from bench.secret_board import BOARD_ID, build_board, run_ceremony
from meetings.voting import elgamal as eg
from meetings.voting import elgamal_dkg as dkg
from meetings.voting.verify_board import verify

ROOT = Path(__file__).resolve().parent.parent
VOTING = ROOT / "meetings" / "voting"
VECTORS = ROOT / "tests" / "vectors"
BID = "a1" * 16


@pytest.fixture(scope="module")
def committee():
    """A 3-member, k = 2 committee: (board's committee part, devices)."""
    return run_ceremony("c1" * 16, 2, 3)


@pytest.fixture(scope="module")
def key(committee):
    return committee[0]["public_key"]


def _refused(fn, *args, match: str | None = None):
    with pytest.raises(eg.InvalidProof, match=match):
        fn(*args)


def _other_point() -> str:
    return eg.point_hex(eg._base(eg.random_scalar()))


# --- round trip ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, lo, hi, chosen", [(3, 1, 1, [0]), (3, 1, 1, [2]), (4, 0, 2, []),
                                               (4, 0, 2, [1]), (4, 0, 2, [0, 3]), (2, 2, 2, [0, 1])])
def test_a_ballot_within_the_rules_verifies(key, n, lo, hi, chosen):
    ballot = eg.encrypt_ballot(key, BID, n, chosen, lo, hi)
    eg.verify_ballot(key, BID, n, lo, hi, ballot)
    assert len(ballot["ciphertexts"]) == n and len(ballot["total_proof"]) == hi - lo + 1
    code = eg.tracking_code(eg.ballot_hash(BID, ballot))
    assert len(code) == 14 and code[4] == code[9] == "-"


def test_the_device_refuses_to_make_a_ballot_outside_the_rules(key):
    for chosen in ([0, 1], [3], [1, 1]):
        with pytest.raises(ValueError):
            eg.encrypt_ballot(key, BID, 3, chosen, 1, 1)


def test_ceremony_then_any_k_of_n_decrypt_the_weighted_tally(committee, key):
    board_committee, devices = committee
    commitments = {m["index"]: m["commitments"] for m in board_committee["members"]}
    for m in board_committee["members"]:
        assert m["verification_key"] == dkg.expected_verification_key(m["index"], commitments)
    # Y = Σ C_i0 is the key whose secret is f(0) = Σ a_i0: shares interpolate to it.
    lam = {j: eg.lagrange_at_zero(j, [1, 2]) for j in (1, 2)}
    secret = sum(lam[j] * devices[j].key_share for j in (1, 2)) % eg.ORDER
    assert eg.point_hex(eg._base(secret)) == key
    cast = [([0], 1), ([1], 2), ([1], 1), ([2], 3), ([1], 1)]
    ballots = [(eg.encrypt_ballot(key, BID, 3, c, 1, 1), w) for c, w in cast]
    agg = eg.aggregate(ballots, 3)
    partials = {j: d.partial_decrypt(BID, agg) for j, d in devices.items()}
    for j, shares in partials.items():
        for i, (item, share) in enumerate(zip(agg, shares, strict=True), 1):
            eg.verify_partial(BID, i, j, devices[j].verification_key, item, share)
    for subset in ([1, 2], [1, 3], [2, 3], [1, 2, 3]):
        assert eg.combine(BID, agg, {j: partials[j] for j in subset}, 8) == [1, 4, 3]
    _refused(eg.combine, BID, agg, {1: partials[1]}, 8, match="no count")


def test_chair_and_secretary_default_two_of_two():
    board_committee, devices = run_ceremony("c2" * 16, 2, 2)
    y = board_committee["public_key"]
    agg = eg.aggregate([(eg.encrypt_ballot(y, BID, 4, c, 0, 2), 1) for c in ([], [0, 3], [3])], 4)
    partials = {j: d.partial_decrypt(BID, agg) for j, d in devices.items()}
    assert eg.combine(BID, agg, partials, 3) == [1, 0, 0, 2]


def test_no_ballot_no_aggregate_and_weight_zero_adds_nothing(key):
    assert eg.aggregate([], 3) == []
    assert eg.combine(BID, [], {}, 0) == []
    ballot = eg.encrypt_ballot(key, BID, 3, [0], 1, 1)
    assert eg.aggregate([(ballot, 0)], 3) == []
    assert eg.aggregate([(ballot, 0), (ballot, 1)], 3) == eg.aggregate([(ballot, 1)], 3)


def test_a_restored_device_decrypts_like_the_original(committee, key):
    _, devices = committee
    agg = eg.aggregate([(eg.encrypt_ballot(key, BID, 3, [2], 1, 1), 1)], 3)
    restored = dkg.CommitteeMemberDevice.from_key_share("c1" * 16, 3, 2, 3, devices[3].key_share)
    partials = {1: devices[1].partial_decrypt(BID, agg), 3: restored.partial_decrypt(BID, agg)}
    for i, share in enumerate(partials[3], 1):
        eg.verify_partial(BID, i, 3, devices[3].verification_key, agg[i - 1], share)
    assert eg.combine(BID, agg, partials, 1) == [0, 0, 1]


# --- encodings -------------------------------------------------------------------------------

def test_parsers_refuse_every_non_canonical_encoding():
    bad = json.loads((VECTORS / "ballot_crypto.json").read_text(encoding="utf-8"))["invalid"]
    for h in bad["points"].values():
        _refused(eg.parse_point, h)
    for h in bad["scalars"].values():
        _refused(eg.parse_scalar, h)
    for junk in (None, 7, "", "zz" * 32):
        _refused(eg.parse_point, junk)
        _refused(eg.parse_scalar, junk)
    assert eg.parse_scalar(eg.scalar_hex(eg.ORDER - 1)) == eg.ORDER - 1
    assert eg.parse_point(eg.point_hex(eg.G)) == eg.G


# --- a tampered ballot is refused ---------------------------------------------------------------

@pytest.fixture()
def ballot(key):
    return eg.encrypt_ballot(key, BID, 3, [1], 1, 1)


def _set(ballot, path, value):
    b = copy.deepcopy(ballot)
    node = b
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return b


def _bump(h: str) -> str:
    return eg.scalar_hex(eg.parse_scalar(h) + 1)


@pytest.mark.parametrize("case", [
    "ciphertext a", "ciphertext b", "swap ciphertexts", "proof c", "proof z", "total z",
    "non-canonical z", "identity a", "invalid encoding", "upper-case hex", "extra key",
    "missing option", "other board",
])
def test_a_tampered_ballot_is_refused(key, ballot, case):
    cts = ballot["ciphertexts"]
    z = cts[0]["proof"][0]["z"]
    tampered = {
        "ciphertext a": lambda: _set(ballot, ["ciphertexts", 0, "a"], _other_point()),
        "ciphertext b": lambda: _set(ballot, ["ciphertexts", 2, "b"], cts[1]["b"]),
        "swap ciphertexts": lambda: _set(ballot, ["ciphertexts"], [cts[1], cts[0], cts[2]]),
        "proof c": lambda: _set(ballot, ["ciphertexts", 1, "proof", 0, "c"], _bump(cts[1]["proof"][0]["c"])),
        "proof z": lambda: _set(ballot, ["ciphertexts", 1, "proof", 1, "z"], _bump(cts[1]["proof"][1]["z"])),
        "total z": lambda: _set(ballot, ["total_proof", 0, "z"], _bump(ballot["total_proof"][0]["z"])),
        "non-canonical z": lambda: _set(ballot, ["ciphertexts", 0, "proof", 0, "z"],
                                        (eg.parse_scalar(z) + eg.ORDER).to_bytes(32, "little").hex()),
        "identity a": lambda: _set(ballot, ["ciphertexts", 0, "a"], "00" * 32),
        "invalid encoding": lambda: _set(ballot, ["ciphertexts", 0, "b"], "ff" * 32),
        "upper-case hex": lambda: _set(ballot, ["ciphertexts", 0, "a"], cts[0]["a"].upper()),
        "extra key": lambda: _set(ballot, ["ciphertexts", 0, "note"], "x"),
        "missing option": lambda: _set(ballot, ["ciphertexts"], cts[:2]),
        "other board": lambda: ballot,
    }[case]()
    board = "b2" * 16 if case == "other board" else BID
    eg.verify_ballot(key, BID, 3, 1, 1, ballot)  # the untouched one passes
    _refused(eg.verify_ballot, key, board, 3, 1, 1, tampered)


def _enc(y: bytes, m: int, r: int) -> tuple[bytes, bytes]:
    """Enc(m; r) for any integer m, negative too (a cheater's ciphertext)."""
    b = eg._mul(r, y)
    if m > 0:
        b = eg._add(b, eg._base(m))
    elif m < 0:
        b = eg._sub(b, eg._base(-m))
    return eg._base(r), b


def _forge(key: str, values: list[int], claimed: list[int], total_claim: int, lo: int, hi: int) -> dict:
    """A ballot encrypting ``values`` whose proofs are made as if option i held claimed[i]."""
    y = eg.parse_point(key)
    cts, rs, pairs = [], [], []
    for i, (m, claim) in enumerate(zip(values, claimed, strict=True), 1):
        r = eg.random_scalar()
        a, b = _enc(y, m, r)
        proof = eg.prove_range(y, a, b, [0, 1], claim, r, f"{BID}|option|{i}", eg.random_scalar)
        cts.append({"a": eg.point_hex(a), "b": eg.point_hex(b), "proof": proof})
        rs.append(r)
        pairs.append((a, b))
    sa, sb = pairs[0]
    for a, b in pairs[1:]:
        sa, sb = eg._add(sa, a), eg._add(sb, b)
    total = eg.prove_range(y, sa, sb, list(range(lo, hi + 1)), total_claim - lo, sum(rs), f"{BID}|total",
                           eg.random_scalar)
    return {"ciphertexts": cts, "total_proof": total}


def test_choosing_two_options_where_one_is_allowed_is_refused(key):
    forged = _forge(key, [1, 1, 0], [1, 1, 0], 1, 1, 1)  # the total claims 1, holds 2
    _refused(eg.verify_ballot, key, BID, 3, 1, 1, forged, match="total")
    honest = _forge(key, [1, 0, 0], [1, 0, 0], 1, 1, 1)
    eg.verify_ballot(key, BID, 3, 1, 1, honest)  # the same forger's code makes valid ballots


def test_an_option_worth_two_is_refused_even_when_the_total_is_right(key):
    forged = _forge(key, [2, -1, 0], [1, 0, 0], 1, 1, 1)  # Σ = 1: the total proof alone holds
    _refused(eg.verify_ballot, key, BID, 3, 1, 1, forged, match=r"\|option\|1:")


def test_library_errors_on_received_data_become_invalid_proof(key, ballot):
    zero = _set(ballot, ["ciphertexts", 0, "proof", 0, "c"], "00" * 32)  # libsodium refuses 0·P
    _refused(eg.verify_ballot, key, BID, 3, 1, 1, zero)
    cancel = copy.deepcopy(ballot)  # ΣA = identity: A_2 = −A_1
    a1 = eg.parse_point(cancel["ciphertexts"][0]["a"])
    cancel["ciphertexts"][1]["a"] = eg.point_hex(eg._sub(eg._sub(a1, a1), a1))
    _refused(eg.verify_ballot, key, BID, 3, 1, 1, cancel)


# --- tampering with the ceremony and the count --------------------------------------------------

def _fresh_ceremony(size=3, k=2):
    uid = os.urandom(16).hex()
    devices = {i: dkg.CommitteeMemberDevice(uid, i, k, size) for i in range(1, size + 1)}
    round1 = {i: d.round1() for i, d in devices.items()}
    round2 = {i: d.round2(round1) for i, d in devices.items()}
    return uid, devices, round1, round2


def _to(round2, j):
    return {i: next(s for s in msgs if s["to"] == j) for i, msgs in round2.items() if i != j}


def test_round1_tampering_is_refused():
    uid, devices, round1, _ = _fresh_ceremony()
    dkg.verify_round1(uid, 2, 2, round1[2])
    _refused(dkg.verify_round1, uid, 3, 2, round1[2])  # someone else's message
    _refused(dkg.verify_round1, "other", 2, 2, round1[2])
    _refused(dkg.verify_round1, uid, 2, 3, round1[2])  # wrong threshold
    moved = copy.deepcopy(round1[2])
    moved["commitments"][0] = round1[1]["commitments"][0]  # claims another's constant term
    _refused(dkg.verify_round1, uid, 2, 2, moved)
    bad_pok = copy.deepcopy(round1[2])
    bad_pok["pok"]["z"] = _bump(bad_pok["pok"]["z"])
    _refused(dkg.verify_round1, uid, 2, 2, bad_pok)
    with pytest.raises(eg.InvalidProof) as exc:
        devices[1].round2({**round1, 3: bad_pok})
    assert exc.value.against == 3


@pytest.mark.parametrize("case", ["flipped ciphertext", "wrong value", "missing", "other ephemeral"])
def test_a_share_failing_feldman_makes_a_complaint_naming_its_sender(case):
    uid, devices, round1, round2 = _fresh_ceremony()
    to_1 = _to(round2, 1)
    share = to_1[2]
    if case == "flipped ciphertext":
        to_1[2] = {**share, "ciphertext": share["ciphertext"][:-2] + f"{int(share['ciphertext'][-2:], 16) ^ 1:02x}"}
    elif case == "wrong value":  # member 2 shares a polynomial other than the one it committed to
        devices[2]._coefficients[0] += 1
        to_1[2] = next(s for s in devices[2].round2(round1) if s["to"] == 1)
    elif case == "missing":
        del to_1[2]
    else:
        to_1[2] = {**share, "ephemeral": to_1[3]["ephemeral"]}
    with pytest.raises(eg.InvalidProof) as exc:
        devices[1].confirm(round1, to_1)
    assert exc.value.against == 2
    assert devices[3].confirm(round1, _to(round2, 3))  # the others' shares are fine


def test_a_wrong_verification_key_and_a_wrong_partial_are_refused(committee, key):
    board_committee, devices = committee
    commitments = {m["index"]: m["commitments"] for m in board_committee["members"]}
    k1, k2 = (dkg.expected_verification_key(j, commitments) for j in (1, 2))
    assert k1 == devices[1].verification_key != k2
    agg = eg.aggregate([(eg.encrypt_ballot(key, BID, 3, [0], 1, 1), 1)], 3)
    good = devices[1].partial_decrypt(BID, agg)[0]
    eg.verify_partial(BID, 1, 1, k1, agg[0], good)
    _refused(eg.verify_partial, BID, 1, 1, k2, agg[0], good)  # against another member's K_j
    _refused(eg.verify_partial, BID, 2, 1, k1, agg[0], good)  # another option's context
    _refused(eg.verify_partial, BID, 1, 2, k1, agg[0], good)  # another member index
    _refused(eg.verify_partial, BID, 1, 1, k1, agg[1], good)  # another aggregate
    shifted = {**good, "d": eg.point_hex(eg._add(eg.parse_point(good["d"]), eg.G))}
    _refused(eg.verify_partial, BID, 1, 1, k1, agg[0], shifted)
    liar = dkg.CommitteeMemberDevice.from_key_share("x", 1, 2, 3, devices[1].key_share + 1)
    _refused(eg.verify_partial, BID, 1, 1, k1, agg[0], liar.partial_decrypt(BID, agg)[0])
    _refused(eg.verify_partial, BID, 1, 1, k1, agg[0], {**good, "z": "00" * 32})


# --- vectors -----------------------------------------------------------------------------------

def _vectors_module():
    spec = importlib.util.spec_from_file_location("make_ballot_vectors", VECTORS / "make_ballot_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vectors_file_is_what_the_script_makes():
    assert _vectors_module().render() == (VECTORS / "ballot_crypto.json").read_text(encoding="utf-8")


def test_the_vectors_verify_and_decrypt():
    v = json.loads((VECTORS / "ballot_crypto.json").read_text(encoding="utf-8"))
    assert int(v["order"]) == eg.ORDER and v["base_point"] == eg.point_hex(eg.G)
    for b in v["ballots"]:
        eg.verify_ballot(b["public_key"], b["board_id"], b["n_options"], b["min_choices"], b["max_choices"],
                         b["ballot"])
        assert eg.ballot_hash(b["board_id"], b["ballot"]) == b["hash"]
    t = v["tally"]
    partials = {int(j): p["shares"] for j, p in t["partials"].items()}
    assert eg.combine(t["board_id"], t["aggregate"], partials, t["max_count"]) == t["counts"] == [1, 3, 3]
    members = {m["index"]: m for m in v["ceremony"]["members"]}
    for j, shares in partials.items():
        for i, (item, share) in enumerate(zip(t["aggregate"], shares, strict=True), 1):
            eg.verify_partial(t["board_id"], i, j, members[j]["verification_key"], item, share)


# --- the board verifier --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def board():
    return build_board(12, weighted=True, decrypt_by=(3, 1))


def test_the_verifier_passes_a_true_board(board):
    report = verify(board)
    assert report.ok, report.failures
    assert report.summary.startswith("OK") and "12 ballots" in report.summary
    assert board["result"]["counts"] == [4, 8, 12]  # ballot b picks option b mod 3 with weight 1 + b mod 3


def _extra_entry(board):
    ballot = eg.encrypt_ballot(board["committee"]["public_key"], BOARD_ID, 3, [0], 1, 1)
    h = eg.ballot_hash(BOARD_ID, ballot)
    return {"hash": h, "tracking_code": eg.tracking_code(h), "weight": 1, "ballot": ballot}


def _tamper(board, case):
    b = copy.deepcopy(board)
    ballots = b["ballots"]
    if case == "ballot changed":
        ballots[4]["ballot"]["ciphertexts"][0]["b"] = ballots[5]["ballot"]["ciphertexts"][0]["b"]
    elif case == "ballot replaced with a valid one":
        ballots[4].update({k: v for k, v in _extra_entry(b).items() if k != "hash"})
    elif case == "ballot removed":
        del ballots[4]
    elif case == "ballot added":
        ballots.append(_extra_entry(b))
        ballots.sort(key=lambda e: e["hash"])
        b["voters"] += 1
    elif case == "ballot duplicated":
        ballots.insert(5, copy.deepcopy(ballots[4]))
        b["voters"] += 1
    elif case == "weight changed":
        ballots[2]["weight"] += 1
    elif case == "order shown":
        ballots.reverse()
    elif case == "partial changed":
        b["partial_decryptions"][0]["shares"][1]["d"] = b["partial_decryptions"][1]["shares"][1]["d"]
    elif case == "result changed":
        b["result"]["counts"][0] += 1
    elif case == "voters changed":
        b["voters"] += 1
    elif case == "tally changed":
        b["encrypted_tally"][0], b["encrypted_tally"][1] = b["encrypted_tally"][1], b["encrypted_tally"][0]
    elif case == "public key changed":
        b["committee"]["public_key"] = _other_point()
    elif case == "verification key changed":
        b["committee"]["members"][0]["verification_key"] = b["committee"]["members"][1]["verification_key"]
    elif case == "round 1 changed":
        b["committee"]["members"][2]["pok"]["z"] = _bump(b["committee"]["members"][2]["pok"]["z"])
    elif case == "one partial left":
        del b["partial_decryptions"][1]
    elif case == "malformed":
        del b["committee"]
    return b


@pytest.mark.parametrize("case, cause", [
    ("ballot changed", "ballot #5"), ("ballot replaced with a valid one", "hash does not match"),
    ("ballot removed", "11 ballots but 12 voters"), ("ballot added", "encrypted tally"),
    ("ballot duplicated", "duplicate"), ("weight changed", "encrypted tally"),
    ("order shown", "not sorted"), ("partial changed", "partial decryption of member 3"),
    ("result changed", "result: counts"), ("voters changed", "12 ballots but 13 voters"),
    ("tally changed", "encrypted tally"), ("public key changed", "public key"),
    ("verification key changed", "member 1: verification key"), ("round 1 changed", "member 3: round 1"),
    ("one partial left", "1 valid partial decryptions, 2 needed"),
    ("malformed", "malformed"),
])
def test_the_verifier_names_the_cause_on_a_tampered_board(board, case, cause):
    report = verify(_tamper(board, case))
    assert not report.ok and report.summary.startswith("FAILED")
    assert any(cause in f for f in report.failures), report.failures


def test_the_verifier_accepts_a_board_without_ballots_or_result(board):
    empty = build_board(0)
    assert empty["encrypted_tally"] is None and empty["result"] == {"counts": [0, 0, 0]}
    assert verify(empty).ok, verify(empty).failures
    counting = build_board(3)
    counting["poll"]["status"], counting["result"], counting["partial_decryptions"] = "counting", None, []
    report = verify(counting)
    assert report.ok and "no result on this board" in report.summary
    hidden = copy.deepcopy(board)  # closed, for a reader who may not see the result yet
    hidden["result"], hidden["partial_decryptions"] = None, []
    assert verify(hidden).ok


# --- the verifier alone -----------------------------------------------------------------------

def _run(args, cwd, env):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_verifier_runs_alone_from_a_copy_of_its_files(tmp_path, board):
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("verify_board.py", "elgamal.py", "elgamal_dkg.py"):
        shutil.copy(VOTING / name, alone / name)
    (alone / "board.json").write_text(json.dumps(board), encoding="utf-8")
    (alone / "bad.json").write_text(json.dumps(_tamper(board, "result changed")), encoding="utf-8")
    # Only pysodium importable: no site-packages (-S), a path holding pysodium alone.
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "pysodium").symlink_to(Path(pysodium.__file__).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    bare = [sys.executable, "-S"]
    which = _run([*bare, "-c", "import verify_board; print(verify_board.elgamal.__file__)"], alone,
                 {**env, "PYTHONPATH": str(lib)})
    assert which.returncode == 0 and Path(which.stdout.strip()).parent == alone, which.stderr
    ok = _run([*bare, "verify_board.py", "board.json"], alone, {**env, "PYTHONPATH": str(lib)})
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    bad = _run([sys.executable, "verify_board.py", "bad.json"], alone, {**env, "PYTHONPATH": ""})
    assert bad.returncode == 1 and "result: counts" in bad.stdout, bad.stdout + bad.stderr


def test_the_verifier_runs_from_the_repository_path_from_any_directory(tmp_path, board):
    (tmp_path / "board.json").write_text(json.dumps(board), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": ""}
    ok = _run([sys.executable, str(VOTING / "verify_board.py"), "board.json"], tmp_path, env)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    missing = _run([sys.executable, str(VOTING / "verify_board.py"), "nothing.json"], tmp_path, env)
    assert missing.returncode == 1 and "cannot read" in missing.stdout
