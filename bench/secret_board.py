"""Secret-ballot crypto: time to verify one ballot, and the stand-alone verifier on a 1,000-ballot board.

    .venv/bin/python bench/secret_board.py [--ballots 1000] [--json FILE]

Builds the bulletin board with meetings/voting/elgamal.py alone (simulated committee devices,
3 members k = 2, a 3-option poll choosing exactly one, ballots encrypted in this process), then
times ``encrypt_ballot`` (median of 20), ``verify_ballot`` on one ballot (median of 50) and
``verify_board.verify`` on the whole board (goal ≤ 10 s). Prints one JSON line
``{"verify_ballot_ms", "verifier_1000_s", …}``. No server, no database.
``build_board`` is also what tests/test_ballot_crypto.py checks.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meetings.voting import elgamal, elgamal_dkg  # noqa: E402
from meetings.voting.verify_board import FORMAT, verify  # noqa: E402

BOARD_ID = "5ec7e7b0a7d5ec7e7b0a7d5ec7e7b0a7"


def run_ceremony(uid: str, threshold: int, size: int) -> tuple[dict, dict[int, elgamal_dkg.CommitteeMemberDevice]]:
    """Every member's device through rounds 1, 2 and confirm; the board's committee part and the devices."""
    devices = {i: elgamal_dkg.CommitteeMemberDevice(uid, i, threshold, size) for i in range(1, size + 1)}
    round1 = {i: d.round1() for i, d in devices.items()}
    round2 = {i: d.round2(round1) for i, d in devices.items()}
    members = []
    for j, d in devices.items():
        to_me = {i: next(s for s in round2[i] if s["to"] == j) for i in devices if i != j}
        members.append({"index": j, "name": f"Member {j}", **round1[j], "verification_key": d.confirm(round1, to_me)})
    public_key = elgamal_dkg.committee_public_key({i: m["commitments"] for i, m in round1.items()})
    return ({"uid": uid, "threshold": threshold, "size": size, "public_key": public_key, "members": members},
            devices)


def build_board(n_ballots: int, n_options: int = 3, min_choices: int = 1, max_choices: int = 1,
                weighted: bool = False, threshold: int = 2, size: int = 3, decrypt_by=(1, 2)) -> dict:
    """A closed poll's bulletin board as the server publishes it; ballot b picks option b mod n (or none)."""
    committee, devices = run_ceremony("c0ffee" * 5 + "00", threshold, size)
    entries = []
    for b in range(n_ballots):
        chosen = [b % n_options][:max_choices] if max_choices else []
        ballot = elgamal.encrypt_ballot(committee["public_key"], BOARD_ID, n_options, chosen, min_choices,
                                        max_choices)
        h = elgamal.ballot_hash(BOARD_ID, ballot)
        entries.append({"hash": h, "tracking_code": elgamal.tracking_code(h),
                        "weight": 1 + b % 3 if weighted else 1, "ballot": ballot})
    entries.sort(key=lambda e: e["hash"])
    agg = elgamal.aggregate([(e["ballot"], e["weight"]) for e in entries], n_options)
    partials = [{"member_index": j, "shares": devices[j].partial_decrypt(BOARD_ID, agg)} for j in decrypt_by]
    counts = (elgamal.combine(BOARD_ID, agg, {p["member_index"]: p["shares"] for p in partials},
                              sum(e["weight"] for e in entries)) if agg else [0] * n_options)
    return {
        "format": FORMAT, "board_id": BOARD_ID,
        "poll": {"id": 1, "meeting_id": 1, "title": "Bench poll",
                 "options": [{"position": i + 1, "label": f"Option {i + 1}"} for i in range(n_options)],
                 "min_choices": min_choices, "max_choices": max_choices, "weighted": weighted, "status": "closed"},
        "committee": committee, "voters": n_ballots, "ballots": entries,
        "encrypted_tally": agg or None, "partial_decryptions": partials, "result": {"counts": counts},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1000)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    t0 = time.perf_counter()
    board = build_board(args.ballots)
    built = time.perf_counter() - t0
    one = board["ballots"][0]["ballot"]
    key = board["committee"]["public_key"]
    enc = []
    for _ in range(20):
        t = time.perf_counter()
        elgamal.encrypt_ballot(key, BOARD_ID, 3, [1], 1, 1)
        enc.append(time.perf_counter() - t)
    times = []
    for _ in range(50):
        t = time.perf_counter()
        elgamal.verify_ballot(key, BOARD_ID, 3, 1, 1, one)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    report = verify(board)
    verifier = time.perf_counter() - t
    if not report.ok:
        sys.exit(f"the verifier refused the bench board: {report.failures[:3]}")
    out = {"verify_ballot_ms": round(statistics.median(times) * 1000, 3),
           f"verifier_{args.ballots}_s": round(verifier, 3),
           "encrypt_ballot_ms": round(statistics.median(enc) * 1000, 3), "build_board_s": round(built, 3),
           "ballots": args.ballots,
           "goal_verifier_1000_s": 10}
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
