"""Verify a secret poll's bulletin board, alone: ``python verify_board.py bulletin-board.json``.

Anyone can check a count without trusting the server: this file with ``elgamal.py`` and
``elgamal_dkg.py`` beside it and pysodium installed is all it takes (exit 0 and "OK …", or exit 1
naming every failure). It checks, from the board alone:

- the committee: each member's round-1 proof of knowledge (Pedersen 1991 / GJKR 2007 DKG), the
  public key Y = Σ C_{i,0}, each verification key K_j from the commitments;
- every ballot's proofs (CGS 1997 with CDS 1994 disjunctive proofs), its hash and tracking code,
  no duplicate, the list sorted by hash, weights, and as many ballots as voters;
- the encrypted tally recomputed from the ballots and their weights;
- each partial decryption's Chaum–Pedersen proof against its member's K_j;
- the counts recombined from k valid partials (several choices of k) equal the published result.

Also used in the server: ``flask --app wsgi poll verify`` calls :func:`verify`.
"""
from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass, field

if __package__:
    from meetings.voting import elgamal, elgamal_dkg
else:  # run as a script: alone, with elgamal.py and elgamal_dkg.py beside this file
    import elgamal
    import elgamal_dkg

FORMAT = "meetings-bulletin-board/1"
_SUBSETS = 20  # valid proofs make every k-subset agree; a few of them show it on the board at hand
_REFUSED = (elgamal.InvalidProof, KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass
class Report:
    """The verifier's finding: ``ok`` when nothing failed; ``failures`` name each problem."""

    failures: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures


def _committee(board: dict, fail) -> dict[int, str]:
    """Check the ceremony's public record; return {index: K_j} of the members whose key holds."""
    committee = board["committee"]
    uid, k, n = committee["uid"], committee["threshold"], committee["size"]
    members = {m["index"]: m for m in committee["members"]}
    if sorted(members) != list(range(1, n + 1)) or len(committee["members"]) != n or not 2 <= k <= n:
        fail(f"committee: members must be 1..{n} with 2 ≤ threshold ≤ size (threshold {k})")
    for i, m in sorted(members.items()):
        try:
            elgamal_dkg.verify_round1(uid, i, k, {key: m[key] for key in ("transport_key", "commitments", "pok")})
        except _REFUSED as exc:
            fail(f"committee member {i}: round 1 refused ({exc})")
    commitments = {i: m["commitments"] for i, m in members.items()}
    keys = {}
    try:
        if elgamal_dkg.committee_public_key(commitments) != committee["public_key"]:
            fail("committee: the public key is not the sum of the members' first commitments")
        for i, m in sorted(members.items()):
            if elgamal_dkg.expected_verification_key(i, commitments) == m["verification_key"]:
                keys[i] = m["verification_key"]
            else:
                fail(f"committee member {i}: verification key does not follow from the commitments")
    except _REFUSED as exc:
        fail(f"committee: commitments refused ({exc})")
    return keys


def _ballots(board: dict, poll: dict, n: int, fail) -> list[tuple[dict, int]]:
    """Check every ballot entry; return (ballot, weight) of those well-formed enough to add up."""
    bid, key = board["board_id"], board["committee"]["public_key"]
    lo, hi, weighted = poll["min_choices"], poll["max_choices"], bool(poll.get("weighted"))
    counted, seen, hashes = [], set(), []
    for pos, entry in enumerate(board["ballots"], 1):
        name = f"ballot #{pos} ({entry.get('tracking_code', '?') if isinstance(entry, dict) else '?'})"
        try:
            ballot, weight = entry["ballot"], entry["weight"]
            if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1 or (not weighted and weight != 1):
                fail(f"{name}: weight {weight!r} not allowed")
            elgamal.verify_ballot(key, bid, n, lo, hi, ballot)
            h = elgamal.ballot_hash(bid, ballot)
            if h != entry["hash"]:
                fail(f"{name}: hash does not match the ballot's content")
            if elgamal.tracking_code(h) != entry["tracking_code"]:
                fail(f"{name}: tracking code does not match the hash")
            if h in seen:
                fail(f"{name}: duplicate ballot")
            seen.add(h)
            hashes.append(entry["hash"])
            counted.append((ballot, weight if isinstance(weight, int) and weight > 0 else 0))
        except _REFUSED as exc:
            fail(f"{name}: refused ({exc})")
    if hashes != sorted(hashes):
        fail("ballots: not sorted by hash (arrival order must not show)")
    if board["voters"] != len(board["ballots"]):
        fail(f"ballots: {len(board['ballots'])} ballots but {board['voters']} voters")
    return counted


def _partials(board: dict, agg: list[dict], keys: dict[int, str], n: int, fail) -> dict[int, list[dict]]:
    """Check each partial decryption's proofs; return the valid ones by member index."""
    valid, seen = {}, set()
    for entry in board.get("partial_decryptions") or []:
        j = entry.get("member_index") if isinstance(entry, dict) else None
        try:
            if j in seen:
                raise ValueError("a second partial decryption")
            seen.add(j)
            if j not in keys:
                raise ValueError("no valid verification key for this member")
            shares = entry["shares"]
            if not isinstance(shares, list) or len(shares) != len(agg) or len(agg) != n:
                raise ValueError(f"needs {n} shares of the encrypted tally")
            for i, (item, share) in enumerate(zip(agg, shares, strict=True), 1):
                elgamal.verify_partial(board["board_id"], i, j, keys[j], item, share)
            valid[j] = shares
        except _REFUSED as exc:
            fail(f"partial decryption of member {j}: refused ({exc})")
    return valid


def _result(board, agg, valid, k, n, max_count, fail) -> list[int] | None:
    result = board.get("result")
    if result is None:  # still counting, or a board for someone who may not see the result yet
        return None
    counts = result["counts"]
    if not agg:
        expected = [[0] * n]
    elif len(valid) < k:
        fail(f"result: {len(valid)} valid partial decryptions, {k} needed")
        return counts
    else:
        expected = []
        for subset in itertools.islice(itertools.combinations(sorted(valid), k), _SUBSETS):
            try:
                expected.append(elgamal.combine(board["board_id"], agg, {j: valid[j] for j in subset}, max_count))
            except _REFUSED as exc:
                fail(f"result: members {list(subset)} do not combine ({exc})")
    for got in expected:
        if got != counts:
            fail(f"result: counts {counts} but the partial decryptions give {got}")
            break
    return counts


def verify(board: dict) -> Report:
    """Check a bulletin board (the JSON of GET /api/v1/polls/{id}/board); never raises on bad data."""
    report = Report()
    fail = report.failures.append
    try:
        if board.get("format") != FORMAT:
            fail(f"format: expected {FORMAT!r}")
        poll, committee = board["poll"], board["committee"]
        n = len(poll["options"])
        keys = _committee(board, fail)
        counted = _ballots(board, poll, n, fail)
        agg = elgamal.aggregate(counted, n) if counted else []
        stored = board.get("encrypted_tally")
        if stored is None and agg and poll.get("status") in ("counting", "closed", "published"):
            fail("encrypted tally: missing although the poll is closed to ballots")
        elif stored is not None and (stored or []) != agg:
            fail("encrypted tally: does not match the ballots and their weights")
        valid = _partials(board, agg, keys, n, fail) if agg else {}
        max_count = sum(w for _, w in counted)
        counts = _result(board, agg, valid, committee["threshold"], n, max_count, fail)
    except _REFUSED as exc:
        fail(f"board: malformed ({type(exc).__name__}: {exc})")
        counts = None
    if report.ok:
        told = f"counts {counts}" if counts is not None else "no result on this board"
        report.summary = (f"OK: board {board['board_id']}: {len(board['ballots'])} ballots from "
                          f"{board['voters']} voters, committee {committee['threshold']} of "
                          f"{committee['size']}, {told}")
    else:
        report.summary = f"FAILED: {len(report.failures)} problem(s)"
    return report


def main(argv: list[str]) -> int:
    """``verify_board.py BOARD.json``: print the summary and every failure; 0 when OK."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} bulletin-board.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            board = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"FAILED: cannot read {argv[1]}: {exc}")
        return 1
    report = verify(board) if isinstance(board, dict) else Report(["board: not a JSON object"], "FAILED")
    print(report.summary)
    for failure in report.failures:
        print(f"  - {failure}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
