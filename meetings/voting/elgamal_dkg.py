"""The counting committee's key ceremony: a joint Feldman DKG over ristretto255 (RFC 9496).

Pedersen, "A Threshold Cryptosystem without a Trusted Party" (EUROCRYPT 1991), with Feldman's
verifiable shares; Gennaro, Jarecki, Krawczyk and Rabin, "Secure Distributed Key Generation for
Discrete-Log Based Cryptosystems" (J. Cryptology 2007) show that the key it yields is fit for
ElGamal encryption (the use here), though not uniformly distributed. Each member i publishes a
transport key, Feldman commitments to a random polynomial of degree k−1 and a Schnorr proof of
knowledge of its constant term (round 1); sends each other member j its share f_i(j), encrypted to
j's transport key with a hashed ElGamal pad (round 2); checks every share it got against the
sender's commitments, complaining about the first that fails, and publishes K_j = s_j·G (confirm).
The committee key is Y = Σ_i C_{i,0}; any k shares s_j decrypt (elgamal.combine).

Use it through :mod:`elgamal` (which offers these names); only the standard library and pysodium.
"""
from __future__ import annotations

if __package__:
    from . import elgamal as eg
else:  # pragma: no cover - the stand-alone verifier
    import elgamal as eg

InvalidProof = eg.InvalidProof


def _pok_challenge(committee_uid: str, index: int, c0: bytes, r: bytes) -> int:
    return eg.hash_to_scalar("meetings/dkg-pok/v1", committee_uid, str(index), c0, r)


def _pad(committee_uid: str, sender: int, recipient: int, ephemeral: bytes, shared: bytes) -> bytes:
    return eg.hash_bytes("meetings/dkg-share/v1", committee_uid, str(sender), str(recipient), ephemeral, shared)[:32]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _commitments(message: dict, threshold: int, what: str) -> list[bytes]:
    cs = message.get("commitments") if isinstance(message, dict) else None
    if not isinstance(cs, list) or len(cs) != threshold:
        raise InvalidProof(f"{what}: needs {threshold} commitments")
    return [eg.parse_point(c, f"{what} commitment") for c in cs]


def _feldman(index: int, commitments: list[bytes]) -> bytes:
    """Σ_l (index^l mod ℓ)·C_l: the public image f(index)·G of a committed polynomial (Horner)."""
    acc = commitments[-1]
    for c in reversed(commitments[:-1]):
        acc = eg._add(eg._mul(index, acc), c)
    return acc


def verify_round1(committee_uid: str, index: int, threshold: int, message: dict) -> None:
    """Refuse a round-1 message whose shape, points or proof of knowledge of a_{i,0} is wrong."""
    what = f"member {index} round 1"
    if not isinstance(message, dict) or set(message) != {"transport_key", "commitments", "pok"}:
        raise InvalidProof(f"{what}: needs exactly transport_key, commitments, pok")
    eg.parse_point(message["transport_key"], f"{what} transport key")
    c0 = _commitments(message, threshold, what)[0]
    pok = message["pok"]
    if not isinstance(pok, dict) or set(pok) != {"c", "z"}:
        raise InvalidProof(f"{what}: pok needs exactly c, z")
    c, z = eg.parse_scalar(pok["c"], "pok c"), eg.parse_scalar(pok["z"], "pok z")
    r = eg._sub(eg._base(z), eg._mul(c, c0))
    if c != _pok_challenge(committee_uid, index, c0, r):
        raise InvalidProof(f"{what}: proof of knowledge does not verify")


def _by_index(messages: dict, what: str) -> dict[int, object]:
    try:
        return {int(k): v for k, v in messages.items()}
    except (AttributeError, TypeError, ValueError):
        raise InvalidProof(f"{what}: keys must be member indices") from None


def expected_verification_key(index: int, commitments_of_all: dict[int, list[str]]) -> str:
    """K_j = Σ_i Σ_l (j^l)·C_{i,l}: member j's public share, from everyone's commitments alone."""
    per_member = [[eg.parse_point(c, "commitment") for c in cs]
                  for cs in _by_index(commitments_of_all, "commitments").values()]
    if not per_member or len({len(cs) for cs in per_member}) != 1 or not per_member[0]:
        raise InvalidProof("commitments: every member needs the same non-zero number")
    summed = per_member[0]
    for cs in per_member[1:]:
        summed = [eg._add(a, b) for a, b in zip(summed, cs, strict=True)]
    return eg.point_hex(_feldman(index, summed))


def committee_public_key(commitments_of_all: dict[int, list[str]]) -> str:
    """Y = Σ_i C_{i,0}."""
    y = None
    for cs in _by_index(commitments_of_all, "commitments").values():
        if not isinstance(cs, list) or not cs:
            raise InvalidProof("commitments: empty")
        c0 = eg.parse_point(cs[0], "commitment")
        y = c0 if y is None else eg._add(y, c0)
    if y is None or y == eg.IDENTITY:
        raise InvalidProof("commitments: no public key")
    return eg.point_hex(y)


class CommitteeMemberDevice:
    """What a member's tablet does in the ceremony and at the count (tests, bench, REST clients).

    Random draws, in order: round1 → t, a_0 … a_{k-1}, w; round2 → one e per other member in index
    order; partial_decrypt → one w per option.
    """

    def __init__(self, committee_uid: str, index: int, threshold: int, size: int, rng=None):
        if not 2 <= threshold <= size or not 1 <= index <= size:
            raise ValueError("need 2 ≤ threshold ≤ size and 1 ≤ index ≤ size")
        self.committee_uid, self.index, self.threshold, self.size = committee_uid, index, threshold, size
        self.rng = rng or eg.random_scalar
        self._transport = 0
        self._coefficients: list[int] = []
        self._round1: dict | None = None
        self.key_share: int | None = None  # s_j: the browser keeps it sealed under the passphrase
        self.verification_key: str | None = None

    @classmethod
    def from_key_share(cls, committee_uid: str, index: int, threshold: int, size: int, key_share: int, rng=None):
        """A device restored from its kept share s_j, ready to decrypt."""
        device = cls(committee_uid, index, threshold, size, rng)
        device.key_share = key_share
        device.verification_key = eg.point_hex(eg._base(key_share))
        return device

    def _f(self, x: int) -> int:
        return sum(a * pow(x, exp, eg.ORDER) for exp, a in enumerate(self._coefficients)) % eg.ORDER

    def round1(self) -> dict:
        """Transport key, Feldman commitments and the proof of knowledge of a_0."""
        self._transport = self.rng()
        self._coefficients = [self.rng() for _ in range(self.threshold)]
        w = self.rng()
        c0 = eg._base(self._coefficients[0])
        c = _pok_challenge(self.committee_uid, self.index, c0, eg._base(w))
        self._round1 = {
            "transport_key": eg.point_hex(eg._base(self._transport)),
            "commitments": [eg.point_hex(eg._base(a)) for a in self._coefficients],
            "pok": {"c": eg.scalar_hex(c), "z": eg.scalar_hex(w + c * self._coefficients[0])},
        }
        return self._round1

    def _check_round1(self, round1_of_all: dict) -> dict[int, dict]:
        msgs = _by_index(round1_of_all, "round 1")
        if set(msgs) != set(range(1, self.size + 1)):
            raise InvalidProof("round 1: not every member has published")
        if self._round1 is not None and msgs[self.index] != self._round1:
            raise InvalidProof("round 1: my own message was changed", against=self.index)
        for i, msg in msgs.items():
            try:
                verify_round1(self.committee_uid, i, self.threshold, msg)
            except InvalidProof as exc:
                raise InvalidProof(exc.reason, against=i) from None
        return msgs

    def round2(self, round1_of_all: dict[int, dict]) -> list[dict]:
        """Every other member's share f_i(j), encrypted to its transport key; every pok checked first."""
        msgs = self._check_round1(round1_of_all)
        out = []
        for j in range(1, self.size + 1):
            if j == self.index:
                continue
            e = self.rng()
            ephemeral = eg._base(e)
            shared = eg._mul(e, eg.parse_point(msgs[j]["transport_key"]))
            pad = _pad(self.committee_uid, self.index, j, ephemeral, shared)
            out.append({"to": j, "ephemeral": eg.point_hex(ephemeral),
                        "ciphertext": _xor(eg._sb(self._f(j)), pad).hex()})
        return out

    def _open_share(self, sender: int, msg: object, commitments: list[bytes]) -> int:
        try:
            if not isinstance(msg, dict) or msg.get("to", self.index) != self.index:
                raise InvalidProof("share not addressed to me")
            ephemeral = eg.parse_point(msg.get("ephemeral"), "ephemeral")
            ct = eg._hex32(msg.get("ciphertext"), "ciphertext")
            pad = _pad(self.committee_uid, sender, self.index, ephemeral, eg._mul(self._transport, ephemeral))
            share = int.from_bytes(_xor(ct, pad), "little")
            if share >= eg.ORDER or eg._base(share) != _feldman(self.index, commitments):
                raise InvalidProof("share fails Feldman's check")
            return share
        except InvalidProof as exc:
            raise InvalidProof(f"member {sender}: {exc.reason}", against=sender) from None

    def confirm(self, round1_of_all: dict[int, dict], shares_to_me: dict[int, dict]) -> str:
        """Open and check every share sent to me; keep s_j and return K_j (hex).

        Raises InvalidProof with ``against`` = the sender of the first bad or missing share.
        """
        msgs = self._check_round1(round1_of_all)
        shares = _by_index(shares_to_me, "shares")
        total = self._f(self.index)
        for i in range(1, self.size + 1):
            if i != self.index:
                if i not in shares:
                    raise InvalidProof(f"member {i}: no share", against=i)
                total += self._open_share(i, shares[i], _commitments(msgs[i], self.threshold, f"member {i}"))
        self.key_share = total % eg.ORDER
        self.verification_key = eg.point_hex(eg._base(self.key_share))
        return self.verification_key

    def partial_decrypt(self, board_id: str, aggregate: list[dict]) -> list[dict]:
        """[{d, c, z}] per option of the encrypted tally, each with its Chaum–Pedersen proof."""
        if self.key_share is None:
            raise ValueError("no key share: the ceremony is not finished on this device")
        return [eg.prove_partial(board_id, i, self.index, self.key_share, item, self.rng)
                for i, item in enumerate(aggregate, 1)]
