"""Writes tests/vectors/ballot_crypto.json: the encrypted-ballot protocol's test vectors.

    .venv/bin/python tests/vectors/make_ballot_vectors.py           # rewrite the file
    .venv/bin/python tests/vectors/make_ballot_vectors.py --check   # exit 1 if the file differs

Every random scalar comes from a fixed generator (``Hs("meetings/test-vector-rng/v1", label, n)``)
and is listed beside the values it made, in the order the code draws it, so another
implementation (static/js/core/elgamal.js) reproduces every value by replaying the list:
- range proof: branch by branch, j ≠ k → c_j, z_j; j = k → w;
- ballot: for each option r_i, then that option's proof; then the total's proof;
- member device: round1 → t, a_0 … a_{k-1}, w; round2 → e per other member in index order;
  partial_decrypt → w per option.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from meetings.voting import elgamal as eg  # noqa: E402
from meetings.voting import elgamal_dkg as dkg  # noqa: E402

OUT = Path(__file__).with_name("ballot_crypto.json")
BOARD_ID = "0123456789abcdef0123456789abcdef"
COMMITTEE_UID = "fedcba9876543210fedcba9876543210"


class Rng:
    """Deterministic scalars, recording each draw (hex) so the vectors can list them."""

    def __init__(self, label: str):
        self.label, self.n, self.drawn = label, 0, []

    def __call__(self) -> int:
        while True:
            self.n += 1
            s = eg.hash_to_scalar("meetings/test-vector-rng/v1", self.label, str(self.n))
            if s:
                self.drawn.append(eg.scalar_hex(s))
                return s

    def take(self) -> list[str]:
        """The draws since the last take."""
        out, self.drawn = self.drawn, []
        return out


def _part_json(p):
    if isinstance(p, bytes):
        return {"type": "bytes", "hex": p.hex()}
    return {"type": "str" if isinstance(p, str) else "int", "value": p}


def hashes() -> list[dict]:
    g = eg.G
    cases = [
        ("meetings/test/v1", []),
        ("meetings/test/v1", ["hello", 42, g, eg._sb(7)]),
        ("meetings/range/v1", ["Bỏ phiếu kín|option|1", 0, 1, bytes(range(64))]),
    ]
    return [{"domain": d, "parts": [_part_json(p) for p in parts],
             "hs": eg.scalar_hex(eg.hash_to_scalar(d, *parts)), "hb": eg.hash_bytes(d, *parts).hex()}
            for d, parts in cases]


def scalar_mults() -> list[dict]:
    return [{"scalar": eg.scalar_hex(k), "point": eg.point_hex(eg._base(k))}
            for k in (1, 2, 3, 1000, eg.ORDER - 1, eg.hash_to_scalar("meetings/test/v1", "k"))]


def encryption(secret: int) -> dict:
    y = eg._base(secret)
    cases = []
    for m, label in ((0, "enc-0"), (1, "enc-1"), (5, "enc-5")):
        r = Rng(label)()
        b = eg._mul(r, y) if m == 0 else eg._add(eg._mul(r, y), eg._base(m))
        cases.append({"m": m, "r": eg.scalar_hex(r), "a": eg.point_hex(eg._base(r)), "b": eg.point_hex(b)})
    return {"secret_key": eg.scalar_hex(secret), "public_key": eg.point_hex(y), "cases": cases}


def range_proofs(secret: int) -> list[dict]:
    y = eg._base(secret)
    out = []
    for label, values, k, ctx in (("range-01", [0, 1], 1, f"{BOARD_ID}|option|2"),
                                   ("range-123", [1, 2, 3], 0, f"{BOARD_ID}|total")):
        rng = Rng(label)
        r = rng()
        a, b = eg._base(r), eg._add(eg._mul(r, y), eg._base(values[k]))
        rng.take()
        proof = eg.prove_range(y, a, b, values, k, r, ctx, rng)
        out.append({"public_key": eg.point_hex(y), "r": eg.scalar_hex(r), "a": eg.point_hex(a),
                    "b": eg.point_hex(b), "values": values, "index": k, "ctx": ctx,
                    "randomness": rng.take(), "proof": proof})
    return out


def ballot_vector(name, public_key, n, chosen, lo, hi, rng=None) -> dict:
    rng = rng or Rng(name)
    ballot = eg.encrypt_ballot(public_key, BOARD_ID, n, chosen, lo, hi, rng)
    h = eg.ballot_hash(BOARD_ID, ballot)
    return {"name": name, "public_key": public_key, "board_id": BOARD_ID, "n_options": n, "chosen": chosen,
            "min_choices": lo, "max_choices": hi, "randomness": rng.take(), "ballot": ballot,
            "hash": h, "tracking_code": eg.tracking_code(h)}


def ceremony_and_tally() -> tuple[dict, dict]:
    k, n = 2, 3
    rngs = {i: Rng(f"member-{i}") for i in range(1, n + 1)}
    devices = {i: dkg.CommitteeMemberDevice(COMMITTEE_UID, i, k, n, rngs[i]) for i in rngs}
    members = {i: {"index": i} for i in devices}
    round1 = {i: d.round1() for i, d in devices.items()}
    for i in devices:
        members[i]["randomness"] = {"round1": rngs[i].take()}
        members[i]["round1"] = round1[i]
    round2 = {i: d.round2(round1) for i, d in devices.items()}
    for i in devices:
        members[i]["randomness"]["round2"] = rngs[i].take()
        members[i]["round2"] = round2[i]
    for j, d in devices.items():
        to_me = {i: next(s for s in round2[i] if s["to"] == j) for i in devices if i != j}
        members[j]["verification_key"] = d.confirm(round1, to_me)
        members[j]["key_share"] = eg.scalar_hex(d.key_share)
    public_key = dkg.committee_public_key({i: m["commitments"] for i, m in round1.items()})
    ceremony = {"committee_uid": COMMITTEE_UID, "threshold": k, "size": n,
                "members": [members[i] for i in sorted(members)], "public_key": public_key}

    cast = [([0], 1), ([1], 2), ([1], 1), ([2], 3)]
    ballots = []
    for b, (chosen, weight) in enumerate(cast, 1):
        v = ballot_vector(f"tally-ballot-{b}", public_key, 3, chosen, 1, 1)
        ballots.append({"chosen": chosen, "weight": weight, "randomness": v["randomness"], "ballot": v["ballot"],
                        "hash": v["hash"]})
    agg = eg.aggregate([(b["ballot"], b["weight"]) for b in ballots], 3)
    partials = {}
    for j in (1, 3):
        shares = devices[j].partial_decrypt(BOARD_ID, agg)
        partials[str(j)] = {"randomness": rngs[j].take(), "shares": shares}
    max_count = sum(w for _, w in cast)
    counts = eg.combine(BOARD_ID, agg, {int(j): p["shares"] for j, p in partials.items()}, max_count)
    tally = {"board_id": BOARD_ID, "n_options": 3, "min_choices": 1, "max_choices": 1, "public_key": public_key,
             "ballots": ballots, "aggregate": agg, "partials": partials,
             "lagrange": {"1": eg.scalar_hex(eg.lagrange_at_zero(1, [1, 3])),
                          "3": eg.scalar_hex(eg.lagrange_at_zero(3, [1, 3]))},
             "max_count": max_count, "counts": counts}
    return ceremony, tally


def invalid() -> dict:
    return {
        "points": {
            "identity": "00" * 32,
            "not_canonical": "ff" * 32,
            "negative_s": "01" + "00" * 31,
            "not_on_curve": "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",  # RFC 9496 A.2
            "upper_case": eg.point_hex(eg.G).upper(),
            "short": eg.point_hex(eg.G)[:62],
        },
        "scalars": {
            "order": eg.ORDER.to_bytes(32, "little").hex(),
            "order_plus_one": (eg.ORDER + 1).to_bytes(32, "little").hex(),
            "high_bit": "00" * 31 + "80",
            "upper_case": eg.scalar_hex(10**30).upper(),
        },
    }


def build() -> dict:
    """The whole vector file as a dict."""
    secret = eg.hash_to_scalar("meetings/test-vector-rng/v1", "secret-key")
    y = eg.point_hex(eg._base(secret))
    ceremony, tally = ceremony_and_tally()
    return {
        "format": "meetings-ballot-crypto-vectors/1",
        "order": str(eg.ORDER),
        "base_point": eg.point_hex(eg.G),
        "rng": "n-th draw of label L: Hs('meetings/test-vector-rng/v1', L, str(n)), n = 1, 2, …; 0 skipped",
        "hashes": hashes(),
        "scalar_mults": scalar_mults(),
        "encryption": encryption(secret),
        "range_proofs": range_proofs(secret),
        "ballots": [ballot_vector("three-options-pick-1", y, 3, [1], 1, 1),
                    ballot_vector("four-options-pick-0-to-2", y, 4, [0, 3], 0, 2),
                    ballot_vector("four-options-blank", y, 4, [], 0, 2)],
        "ceremony": ceremony,
        "tally": tally,
        "invalid": invalid(),
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
