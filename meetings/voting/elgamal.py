"""Encrypted secret ballots: exponential ElGamal over ristretto255 with zero-knowledge proofs.

The scheme is Cramer, Gennaro and Schoenmakers, "A Secure and Optimally Efficient Multi-Authority
Election Scheme" (EUROCRYPT 1997), over the prime-order group ristretto255 (RFC 9496):

- a ballot encrypts 0 or 1 per option, ``Enc(m; r) = (r·G, m·G + r·Y)``, each with a disjunctive
  Chaum–Pedersen proof that it is 0 or 1, and the sum of all options with a proof that it lies in
  ``min_choices..max_choices`` (proofs of partial knowledge: Cramer, Damgård, Schoenmakers,
  CRYPTO 1994), made non-interactive with Fiat–Shamir over SHA-512;
- the committee key comes from a joint Feldman DKG (Pedersen 1991; Gennaro, Jarecki, Krawczyk and
  Rabin, J. Cryptology 2007, show its key fit for ElGamal), each member keeping a share ``s_j``;
- ballots add up homomorphically; any k members publish ``s_j·A`` with a Chaum–Pedersen proof;
  Lagrange interpolation in the exponent gives ``t·G`` and the small count t by walking upward.

The byte-exact protocol (hash domains, encodings, JSON shapes) is docs of issue 14, section 1, and
``static/js/core/elgamal.js`` is the same protocol for the browser. This module imports only the
standard library and pysodium, so the stand-alone verifier (``verify_board.py``) can carry it.

Every failure on received data raises :class:`InvalidProof` with a short reason; libsodium's
errors (identity results, zero scalars, bad encodings) are turned into it, never let through.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable

import pysodium as _na

ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes(32)
_HEX64 = re.compile(r"[0-9a-f]{64}")


class InvalidProof(ValueError):
    """A proof, an encoding or a message refused; ``against`` names the accused member of a complaint."""

    def __init__(self, reason: str, against: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.against = against


# --- encodings ----------------------------------------------------------------------------------

def _hex32(h: object, what: str) -> bytes:
    if not isinstance(h, str) or not _HEX64.fullmatch(h):
        raise InvalidProof(f"{what}: not 64 lowercase hex digits")
    return bytes.fromhex(h)


def point_hex(p: bytes) -> str:
    """The JSON form of a point: its canonical 32-byte encoding in lowercase hex."""
    return p.hex()


def parse_point(h: str, what: str = "point") -> bytes:
    """A received point: canonical, on the group, not the identity (else InvalidProof)."""
    p = _hex32(h, what)
    if p == IDENTITY or not _na.crypto_core_ristretto255_is_valid_point(p):
        raise InvalidProof(f"{what}: not a valid ristretto255 point")
    return p


def scalar_hex(s: int) -> str:
    """The JSON form of a scalar: 32 bytes little-endian, lowercase hex."""
    return _sb(s).hex()


def parse_scalar(h: str, what: str = "scalar") -> int:
    """A received scalar; only the canonical encoding (< ORDER) is accepted."""
    s = int.from_bytes(_hex32(h, what), "little")
    if s >= ORDER:
        raise InvalidProof(f"{what}: not canonical")
    return s


def _sb(s: int) -> bytes:
    return (s % ORDER).to_bytes(32, "little")


# --- group operations: libsodium's refusals become InvalidProof -------------------------------

def _base(s: int) -> bytes:
    if s % ORDER == 0:
        raise InvalidProof("zero scalar")
    return _na.crypto_scalarmult_ristretto255_base(_sb(s))


def _mul(s: int, p: bytes) -> bytes:
    if s % ORDER == 0:
        raise InvalidProof("zero scalar")
    try:
        return _na.crypto_scalarmult_ristretto255(_sb(s), p)
    except ValueError:
        raise InvalidProof("scalar multiplication refused (identity)") from None


def _add(p: bytes, q: bytes) -> bytes:
    try:
        return _na.crypto_core_ristretto255_add(p, q)
    except ValueError:
        raise InvalidProof("point addition refused") from None


def _sub(p: bytes, q: bytes) -> bytes:
    try:
        return _na.crypto_core_ristretto255_sub(p, q)
    except ValueError:
        raise InvalidProof("point subtraction refused") from None


G = _base(1)
_SMALL: dict[int, bytes] = {}


def _minus_value(b: bytes, v: int) -> bytes:
    """B − v·G; v = 0 subtracts nothing (0·G is the identity, which libsodium refuses to make)."""
    if v == 0:
        return b
    if v not in _SMALL:
        _SMALL[v] = _base(v)
    return _sub(b, _SMALL[v])


# --- hashing and randomness ---------------------------------------------------------------------

def _part(x: bytes | str | int) -> bytes:
    if isinstance(x, bytes):
        return x
    return (x if isinstance(x, str) else str(x)).encode()


def hash_bytes(domain: str, *parts: bytes | str | int) -> bytes:
    """Hb: SHA-512 of the length-prefixed (4 bytes, big-endian) domain and parts; 64 bytes."""
    data = b"".join(len(p).to_bytes(4, "big") + p for p in (domain.encode(), *map(_part, parts)))
    return hashlib.sha512(data).digest()


def hash_to_scalar(domain: str, *parts: bytes | str | int) -> int:
    """Hs: Hb read little-endian, mod ORDER. Parts: bytes as they are, strings UTF-8, ints decimal."""
    return int.from_bytes(hash_bytes(domain, *parts), "little") % ORDER


def random_scalar() -> int:
    """A uniform non-zero scalar: 64 random bytes little-endian mod ORDER."""
    while True:
        s = int.from_bytes(secrets.token_bytes(64), "little") % ORDER
        if s:
            return s


Rng = Callable[[], int]


# --- disjunctive Chaum–Pedersen range proof (CDS 1994) -----------------------------------------

def _range_challenge(ctx, y, a, b, values, commitments) -> int:
    return hash_to_scalar("meetings/range/v1", ctx, y, a, b, *(str(v) for v in values), *commitments)


def prove_range(y: bytes, a: bytes, b: bytes, values: list[int], k: int, r: int, ctx: str, rng: Rng) -> list[dict]:
    """Prove (a, b) = Enc(values[k]; r) under y. Draws, branch by branch: j ≠ k → c_j, z_j; j = k → w."""
    cs, zs, commitments, w = [], [], [], 0
    for j, v in enumerate(values):
        if j == k:
            w = rng()
            cs.append(0)
            zs.append(0)
            commitments += [_base(w), _mul(w, y)]
        else:
            c, z = rng(), rng()
            cs.append(c)
            zs.append(z)
            commitments += [_sub(_base(z), _mul(c, a)), _sub(_mul(z, y), _mul(c, _minus_value(b, v)))]
    c = _range_challenge(ctx, y, a, b, values, commitments)
    cs[k] = (c - sum(cs)) % ORDER
    zs[k] = (w + cs[k] * r) % ORDER
    return [{"c": scalar_hex(c_j), "z": scalar_hex(z_j)} for c_j, z_j in zip(cs, zs, strict=True)]


def verify_range(y: bytes, a: bytes, b: bytes, values: list[int], ctx: str, proof: object) -> None:
    """Check a range proof: recompute each branch's commitments and the Fiat–Shamir challenge."""
    if not isinstance(proof, list) or len(proof) != len(values):
        raise InvalidProof(f"{ctx}: proof needs {len(values)} branches")
    cs, commitments = [], []
    for v, branch in zip(values, proof, strict=True):
        if not isinstance(branch, dict) or set(branch) != {"c", "z"}:
            raise InvalidProof(f"{ctx}: a branch is not {{c, z}}")
        c, z = parse_scalar(branch["c"], "c"), parse_scalar(branch["z"], "z")
        cs.append(c)
        commitments += [_sub(_base(z), _mul(c, a)), _sub(_mul(z, y), _mul(c, _minus_value(b, v)))]
    if sum(cs) % ORDER != _range_challenge(ctx, y, a, b, values, commitments):
        raise InvalidProof(f"{ctx}: range proof does not verify")


# --- ballots ------------------------------------------------------------------------------------

def _check_rules(n_options: int, min_choices: int, max_choices: int) -> None:
    if not (n_options >= 1 and 0 <= min_choices <= max_choices <= n_options):
        raise ValueError("poll rules: need 0 ≤ min_choices ≤ max_choices ≤ n_options, n_options ≥ 1")


def encrypt_ballot(public_key: str, board_id: str, n_options: int, chosen: list[int],
                   min_choices: int, max_choices: int, rng: Rng | None = None) -> dict:
    """The ballot JSON choosing the 0-based option positions ``chosen``.

    Random draws, in order: for each option i = 1..n, r_i then its proof's draws; then the total's.
    """
    _check_rules(n_options, min_choices, max_choices)
    picks = set(chosen)
    if len(picks) != len(chosen) or not picks <= set(range(n_options)):
        raise ValueError("chosen: distinct option positions 0..n-1")
    if not min_choices <= len(picks) <= max_choices:
        raise ValueError("chosen: outside min_choices..max_choices")
    rng = rng or random_scalar
    y = parse_point(public_key, "public key")
    cts, sum_a, sum_b, sum_r = [], None, None, 0
    for i in range(1, n_options + 1):
        m = 1 if i - 1 in picks else 0
        r = rng()
        a, b = _base(r), _mul(r, y)
        if m:
            b = _add(b, G)
        proof = prove_range(y, a, b, [0, 1], m, r, f"{board_id}|option|{i}", rng)
        cts.append({"a": point_hex(a), "b": point_hex(b), "proof": proof})
        sum_a, sum_b = (a, b) if sum_a is None else (_add(sum_a, a), _add(sum_b, b))
        sum_r += r
    values = list(range(min_choices, max_choices + 1))
    total = prove_range(y, sum_a, sum_b, values, len(picks) - min_choices, sum_r, f"{board_id}|total", rng)
    return {"ciphertexts": cts, "total_proof": total}


def _ciphertexts(ballot: object, n_options: int) -> list[tuple[bytes, bytes, object]]:
    if not isinstance(ballot, dict) or set(ballot) != {"ciphertexts", "total_proof"}:
        raise InvalidProof("ballot: needs exactly ciphertexts and total_proof")
    cts = ballot["ciphertexts"]
    if not isinstance(cts, list) or len(cts) != n_options:
        raise InvalidProof(f"ballot: needs {n_options} ciphertexts")
    out = []
    for i, ct in enumerate(cts, 1):
        if not isinstance(ct, dict) or set(ct) != {"a", "b", "proof"}:
            raise InvalidProof(f"option {i}: needs exactly a, b, proof")
        out.append((parse_point(ct["a"], f"option {i} a"), parse_point(ct["b"], f"option {i} b"), ct["proof"]))
    return out


def verify_ballot(public_key: str, board_id: str, n_options: int, min_choices: int, max_choices: int,
                  ballot: dict) -> None:
    """Refuse (InvalidProof) unless every option encrypts 0 or 1 and their sum lies in min..max."""
    _check_rules(n_options, min_choices, max_choices)
    y = parse_point(public_key, "public key")
    sum_a = sum_b = None
    for i, (a, b, proof) in enumerate(_ciphertexts(ballot, n_options), 1):
        verify_range(y, a, b, [0, 1], f"{board_id}|option|{i}", proof)
        sum_a, sum_b = (a, b) if sum_a is None else (_add(sum_a, a), _add(sum_b, b))
    if sum_a == IDENTITY or sum_b == IDENTITY:
        raise InvalidProof("total: identity")
    verify_range(y, sum_a, sum_b, list(range(min_choices, max_choices + 1)), f"{board_id}|total",
                 ballot["total_proof"])


def _proof_bytes(proof: object) -> bytes:
    if not isinstance(proof, list):
        raise InvalidProof("proof: not a list")
    out = b""
    for branch in proof:
        if not isinstance(branch, dict):
            raise InvalidProof("proof: branch not an object")
        out += _hex32(branch.get("c"), "c") + _hex32(branch.get("z"), "z")
    return out


def ballot_hash(board_id: str, ballot: dict) -> str:
    """SHA-256 of the board id and every a, b, c, z of the ballot in order; lowercase hex."""
    if not isinstance(ballot, dict) or not isinstance(ballot.get("ciphertexts"), list):
        raise InvalidProof("ballot: no ciphertexts")
    data = board_id.encode()
    for ct in ballot["ciphertexts"]:
        if not isinstance(ct, dict):
            raise InvalidProof("ballot: ciphertext not an object")
        data += _hex32(ct.get("a"), "a") + _hex32(ct.get("b"), "b") + _proof_bytes(ct.get("proof"))
    return hashlib.sha256(data + _proof_bytes(ballot.get("total_proof"))).hexdigest()


def tracking_code(ballot_hash_hex: str) -> str:
    """XXXX-XXXX-XXXX: base32 (RFC 4648) of the hash's first 8 bytes, its first 12 characters."""
    code = base64.b32encode(bytes.fromhex(ballot_hash_hex)[:8]).decode()[:12]
    return "-".join(code[i:i + 4] for i in (0, 4, 8))


def aggregate(ballots: list[tuple[dict, int]], n_options: int) -> list[dict]:
    """The encrypted tally: Σ weight·(A, B) per option; [] when no ballot counts (nothing to decrypt)."""
    sums: list[list[bytes]] | None = None
    for ballot, weight in ballots:
        if weight == 0:
            continue  # never a zero scalar: a weight-0 ballot adds nothing
        terms = []
        for a, b, _proof in _ciphertexts(ballot, n_options):
            terms.append([a, b] if weight == 1 else [_mul(weight, a), _mul(weight, b)])
        sums = terms if sums is None else [[_add(s[0], t[0]), _add(s[1], t[1])]
                                           for s, t in zip(sums, terms, strict=True)]
    return [] if sums is None else [{"a": point_hex(a), "b": point_hex(b)} for a, b in sums]


# --- partial decryption and combining -----------------------------------------------------------

def _partial_challenge(board_id, option, member, k_j, a, d, u, v) -> int:
    return hash_to_scalar("meetings/partial/v1", f"{board_id}|option|{option}", str(member), k_j, a, d, u, v)


def prove_partial(board_id: str, option: int, member: int, share: int, aggregate_item: dict, rng: Rng) -> dict:
    """D = s_j·A with a Chaum–Pedersen proof that log_G K_j = log_A D; one draw (w)."""
    a = parse_point(aggregate_item["a"], f"aggregate {option} a")
    k_j, d, w = _base(share), _mul(share, a), rng()
    c = _partial_challenge(board_id, option, member, k_j, a, d, _base(w), _mul(w, a))
    return {"d": point_hex(d), "c": scalar_hex(c), "z": scalar_hex(w + c * share)}


def verify_partial(board_id: str, option_index_1based: int, member_index: int, verification_key: str,
                   aggregate_item: dict, partial_item: dict) -> None:
    """Refuse a partial decryption whose proof against K_j does not hold."""
    what = f"member {member_index} option {option_index_1based}"
    if not isinstance(partial_item, dict) or set(partial_item) != {"d", "c", "z"}:
        raise InvalidProof(f"{what}: needs exactly d, c, z")
    k_j = parse_point(verification_key, "verification key")
    a = parse_point(aggregate_item["a"], "aggregate a")
    d = parse_point(partial_item["d"], f"{what} d")
    c, z = parse_scalar(partial_item["c"], "c"), parse_scalar(partial_item["z"], "z")
    u, v = _sub(_base(z), _mul(c, k_j)), _sub(_mul(z, a), _mul(c, d))
    if c != _partial_challenge(board_id, option_index_1based, member_index, k_j, a, d, u, v):
        raise InvalidProof(f"{what}: partial decryption proof does not verify")


def lagrange_at_zero(j: int, members: list[int]) -> int:
    """λ_j = Π_{m ≠ j} m·(m − j)^-1 mod ORDER, the weight of member j's share in f(0)."""
    lam = 1
    for m in members:
        if m != j:
            lam = lam * m * pow(m - j, -1, ORDER) % ORDER
    return lam


def combine(board_id: str, aggregate: list[dict], partials: dict[int, list[dict]], max_count: int) -> list[int]:
    """Counts per option from verified partials of at least k members; [] for an empty aggregate.

    Raises InvalidProof when no count in 0..max_count fits (too few or wrong partials).
    """
    members = sorted(partials)
    if (aggregate and not members) or any(not isinstance(m, int) or m < 1 for m in members):
        raise InvalidProof("partials: need member indices 1..n")
    counts = []
    for i, item in enumerate(aggregate, 1):
        s = None
        for j in members:
            if len(partials[j]) != len(aggregate):
                raise InvalidProof(f"member {j}: needs {len(aggregate)} partials")
            share = partials[j][i - 1]
            if not isinstance(share, dict):
                raise InvalidProof(f"member {j}: a partial is not an object")
            term = _mul(lagrange_at_zero(j, members), parse_point(share.get("d"), "d"))
            s = term if s is None else _add(s, term)
        m = _sub(parse_point(item["b"], "aggregate b"), s)
        t, p = 0, IDENTITY
        while p != m:
            t += 1
            if t > max_count:
                raise InvalidProof(f"{board_id} option {i}: no count in 0..{max_count}")
            p = G if t == 1 else _add(p, G)
        counts.append(t)
    return counts
