// Encrypted secret ballots on the tablet: exponential ElGamal over ristretto255 (RFC 9496) with
// zero-knowledge proofs, and the counting committee member's device (key ceremony, partial
// decryption, the key share sealed under a passphrase).
//
// The scheme is Cramer, Gennaro and Schoenmakers (EUROCRYPT 1997): per option an encryption of 0
// or 1 with a disjunctive Chaum–Pedersen proof (Cramer, Damgård, Schoenmakers, CRYPTO 1994), the
// number chosen proved within min..max; a joint Feldman DKG (Pedersen 1991) for the committee key;
// Chaum–Pedersen proofs of partial decryption. It is byte for byte the protocol of the Python module
// meetings/voting/elgamal.py (docs/secret-ballot.md), with the same JSON shapes; the shared test
// vectors tests/vectors/ballot_crypto.json hold both to it.
//
// The group arithmetic is @noble/curves and the hashes @noble/hashes (audited, served by this
// server under /vendor/): imported by bare specifiers, which the page's import map resolves and
// node resolves from node_modules/ (tests/js/). Scalars are BigInts; every received point and
// scalar is validated and a failure on received data throws InvalidProof, never anything else.
import { ristretto255 } from "@noble/curves/ed25519.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";

const Point = ristretto255.Point;
export const ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const HEX64 = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

/** A proof, an encoding or a message refused; ``against`` names the accused member of a complaint. */
export class InvalidProof extends Error {
  constructor(reason, against = null) {
    super(reason);
    this.name = "InvalidProof";
    this.reason = reason;
    this.against = against;
  }
}

// --- encodings ------------------------------------------------------------------------------

export function bytesToHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function littleEndian(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

const mod = (n) => ((n % ORDER) + ORDER) % ORDER;

function hex32(h, what) {
  if (typeof h !== "string" || !HEX64.test(h)) throw new InvalidProof(`${what}: not 64 lowercase hex digits`);
  return hexToBytes(h);
}

/** A scalar's 32 bytes, little-endian (reduced mod ℓ). */
export function scalarBytes(s) {
  let n = mod(s);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/** The JSON form of a scalar: 32 bytes little-endian, lowercase hex. */
export const scalarHex = (s) => bytesToHex(scalarBytes(s));

/** A received scalar; only the canonical encoding (< ℓ) is accepted. */
export function parseScalar(h, what = "scalar") {
  const s = littleEndian(hex32(h, what));
  if (s >= ORDER) throw new InvalidProof(`${what}: not canonical`);
  return s;
}

/** The JSON form of a point: its canonical 32-byte encoding in lowercase hex. */
export const pointHex = (p) => bytesToHex(p.toBytes());

/** A received point: canonical, on the group, not the identity (else InvalidProof). */
export function parsePoint(h, what = "point") {
  const bytes = hex32(h, what);
  let p;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new InvalidProof(`${what}: not a valid ristretto255 point`);
  }
  if (p.is0()) throw new InvalidProof(`${what}: not a valid ristretto255 point`);
  return p;
}

// --- group operations, refusing what libsodium refuses (the server must agree) -------------

/** s·G; a zero scalar is refused (libsodium's rule, and 0·G would be the identity). */
function base(s) {
  const n = mod(s);
  if (n === 0n) throw new InvalidProof("zero scalar");
  return Point.BASE.multiply(n);
}

/** s·P, constant time; zero scalar or identity point refused, as libsodium does. */
function mul(s, p) {
  const n = mod(s);
  if (n === 0n) throw new InvalidProof("zero scalar");
  if (p.is0()) throw new InvalidProof("scalar multiplication refused (identity)");
  return p.multiply(n);
}

const G = Point.BASE;
const small = new Map();

/** s·G in hex: the public key or verification key of a secret scalar. */
export const publicKeyOf = (secret) => pointHex(base(secret));

/** Enc(m; r) = (r·G, m·G + r·Y) under the public key (hex) as {a, b}; m a small non-negative integer. */
export function encrypt(publicKeyHex, m, r) {
  const y = parsePoint(publicKeyHex, "public key");
  const b = mul(r, y);
  return { a: publicKeyOf(r), b: pointHex(m === 0 ? b : b.add(base(BigInt(m)))) };
}

/** B − v·G; v = 0 subtracts nothing (never a multiplication by 0). */
function minusValue(b, v) {
  if (v === 0) return b;
  if (!small.has(v)) small.set(v, base(BigInt(v)));
  return b.subtract(small.get(v));
}

// --- hashing and randomness -------------------------------------------------------------------

function part(x) {
  if (x instanceof Uint8Array) return x;
  if (typeof x === "string") return utf8.encode(x);
  if (typeof x === "number" || typeof x === "bigint") return utf8.encode(String(x));
  if (x instanceof Point) return x.toBytes();
  throw new TypeError("hash part: bytes, string, integer or point");
}

/** Hb: SHA-512 of the length-prefixed (4 bytes, big-endian) domain and parts; 64 bytes. */
export function hashBytes(domain, ...parts) {
  const chunks = [domain, ...parts].map(part);
  const data = new Uint8Array(chunks.reduce((n, c) => n + 4 + c.length, 0));
  const view = new DataView(data.buffer);
  let at = 0;
  for (const c of chunks) {
    view.setUint32(at, c.length, false);
    data.set(c, at + 4);
    at += 4 + c.length;
  }
  return sha512(data);
}

/** Hs: Hb read little-endian, mod ℓ. Parts: bytes as they are, strings UTF-8, integers decimal. */
export const hashToScalar = (domain, ...parts) => littleEndian(hashBytes(domain, ...parts)) % ORDER;

/** A uniform non-zero scalar: 64 random bytes (crypto.getRandomValues) little-endian mod ℓ. */
export function randomScalar() {
  for (;;) {
    const s = littleEndian(crypto.getRandomValues(new Uint8Array(64))) % ORDER;
    if (s !== 0n) return s;
  }
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0n);

function exactKeys(obj, keys) {
  return obj !== null && typeof obj === "object" && !Array.isArray(obj)
    && Object.keys(obj).sort().join(",") === [...keys].sort().join(",");
}

// --- disjunctive Chaum–Pedersen range proof (CDS 1994) -------------------------------------

function rangeChallenge(ctx, y, a, b, values, commitments) {
  return hashToScalar("meetings/range/v1", ctx, y, a, b, ...values.map(String), ...commitments);
}

/** Prove (a, b) = Enc(values[k]; r) under y. Draws, branch by branch: j ≠ k → c_j, z_j; j = k → w. */
export function proveRange(y, a, b, values, k, r, ctx, rng = randomScalar) {
  const cs = [];
  const zs = [];
  const commitments = [];
  let w = 0n;
  values.forEach((v, j) => {
    if (j === k) {
      w = rng();
      cs.push(0n);
      zs.push(0n);
      commitments.push(base(w), mul(w, y));
    } else {
      const c = rng();
      const z = rng();
      cs.push(c);
      zs.push(z);
      commitments.push(base(z).subtract(mul(c, a)), mul(z, y).subtract(mul(c, minusValue(b, v))));
    }
  });
  cs[k] = mod(rangeChallenge(ctx, y, a, b, values, commitments) - sum(cs));
  zs[k] = mod(w + cs[k] * r);
  return cs.map((c, j) => ({ c: scalarHex(c), z: scalarHex(zs[j]) }));
}

/** Check a range proof: recompute each branch's commitments and the Fiat–Shamir challenge. */
export function verifyRange(y, a, b, values, ctx, proof) {
  if (!Array.isArray(proof) || proof.length !== values.length) {
    throw new InvalidProof(`${ctx}: proof needs ${values.length} branches`);
  }
  const cs = [];
  const commitments = [];
  values.forEach((v, j) => {
    const branch = proof[j];
    if (!exactKeys(branch, ["c", "z"])) throw new InvalidProof(`${ctx}: a branch is not {c, z}`);
    const c = parseScalar(branch.c, "c");
    const z = parseScalar(branch.z, "z");
    cs.push(c);
    commitments.push(base(z).subtract(mul(c, a)), mul(z, y).subtract(mul(c, minusValue(b, v))));
  });
  if (mod(sum(cs)) !== rangeChallenge(ctx, y, a, b, values, commitments)) {
    throw new InvalidProof(`${ctx}: range proof does not verify`);
  }
}

// --- ballots ------------------------------------------------------------------------------------

function checkRules(nOptions, minChoices, maxChoices) {
  const ints = [nOptions, minChoices, maxChoices].every(Number.isInteger);
  if (!(ints && nOptions >= 1 && minChoices >= 0 && minChoices <= maxChoices && maxChoices <= nOptions)) {
    throw new RangeError("poll rules: need 0 ≤ min_choices ≤ max_choices ≤ n_options, n_options ≥ 1");
  }
}

const range = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/**
 * The ballot JSON {ciphertexts: [{a, b, proof}], total_proof} choosing the 0-based option
 * positions ``chosenPositions``. Random draws, in order: for each option i = 1..n, r_i then its
 * proof's draws; then the total's. ``rng`` (returning BigInt scalars) only for test vectors.
 */
export function encryptBallot(publicKeyHex, boardId, nOptions, chosenPositions, minChoices, maxChoices,
  rng = randomScalar) {
  checkRules(nOptions, minChoices, maxChoices);
  const picks = new Set(chosenPositions);
  if (picks.size !== chosenPositions.length
    || ![...picks].every((p) => Number.isInteger(p) && p >= 0 && p < nOptions)) {
    throw new RangeError("chosen: distinct option positions 0..n-1");
  }
  if (picks.size < minChoices || picks.size > maxChoices) throw new RangeError("chosen: outside min_choices..max_choices");
  const y = parsePoint(publicKeyHex, "public key");
  const ciphertexts = [];
  let sumA = null;
  let sumB = null;
  let sumR = 0n;
  for (let i = 1; i <= nOptions; i++) {
    const m = picks.has(i - 1) ? 1 : 0;
    const r = rng();
    const a = base(r);
    let b = mul(r, y);
    if (m) b = b.add(G);
    const proof = proveRange(y, a, b, [0, 1], m, r, `${boardId}|option|${i}`, rng);
    ciphertexts.push({ a: pointHex(a), b: pointHex(b), proof });
    [sumA, sumB] = sumA === null ? [a, b] : [sumA.add(a), sumB.add(b)];
    sumR += r;
  }
  const totalProof = proveRange(y, sumA, sumB, range(minChoices, maxChoices), picks.size - minChoices, sumR,
    `${boardId}|total`, rng);
  return { ciphertexts, total_proof: totalProof };
}

function ciphertextsOf(ballot, nOptions) {
  if (!exactKeys(ballot, ["ciphertexts", "total_proof"])) {
    throw new InvalidProof("ballot: needs exactly ciphertexts and total_proof");
  }
  const cts = ballot.ciphertexts;
  if (!Array.isArray(cts) || cts.length !== nOptions) throw new InvalidProof(`ballot: needs ${nOptions} ciphertexts`);
  return cts.map((ct, n) => {
    const i = n + 1;
    if (!exactKeys(ct, ["a", "b", "proof"])) throw new InvalidProof(`option ${i}: needs exactly a, b, proof`);
    return [parsePoint(ct.a, `option ${i} a`), parsePoint(ct.b, `option ${i} b`), ct.proof];
  });
}

/** Throw InvalidProof unless every option encrypts 0 or 1 and their sum lies in min..max. */
export function verifyBallot(publicKeyHex, boardId, nOptions, minChoices, maxChoices, ballot) {
  checkRules(nOptions, minChoices, maxChoices);
  const y = parsePoint(publicKeyHex, "public key");
  let sumA = null;
  let sumB = null;
  ciphertextsOf(ballot, nOptions).forEach(([a, b, proof], n) => {
    verifyRange(y, a, b, [0, 1], `${boardId}|option|${n + 1}`, proof);
    [sumA, sumB] = sumA === null ? [a, b] : [sumA.add(a), sumB.add(b)];
  });
  if (sumA.is0() || sumB.is0()) throw new InvalidProof("total: identity");
  verifyRange(y, sumA, sumB, range(minChoices, maxChoices), `${boardId}|total`, ballot.total_proof);
}

function proofBytes(proof) {
  if (!Array.isArray(proof)) throw new InvalidProof("proof: not a list");
  return proof.flatMap((branch) => {
    if (branch === null || typeof branch !== "object") throw new InvalidProof("proof: branch not an object");
    return [hex32(branch.c, "c"), hex32(branch.z, "z")];
  });
}

/** SHA-256 of the board id and every a, b, c, z of the ballot in order; lowercase hex. */
export function ballotHash(boardId, ballot) {
  if (ballot === null || typeof ballot !== "object" || !Array.isArray(ballot.ciphertexts)) {
    throw new InvalidProof("ballot: no ciphertexts");
  }
  const chunks = [utf8.encode(boardId)];
  for (const ct of ballot.ciphertexts) {
    if (ct === null || typeof ct !== "object") throw new InvalidProof("ballot: ciphertext not an object");
    chunks.push(hex32(ct.a, "a"), hex32(ct.b, "b"), ...proofBytes(ct.proof));
  }
  chunks.push(...proofBytes(ballot.total_proof));
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return bytesToHex(sha256(data));
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** XXXX-XXXX-XXXX: base32 (RFC 4648) of the hash's first 8 bytes, its first 12 characters. */
export function trackingCode(ballotHashHex) {
  let bits = 0n;
  for (const b of hexToBytes(ballotHashHex.slice(0, 16))) bits = (bits << 8n) | BigInt(b);
  let code = "";
  for (let shift = 59n; code.length < 12; shift -= 5n) code += BASE32[Number((bits >> shift) & 31n)];
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}`;
}

/** The encrypted tally: Σ weight·(A, B) per option of [[ballot, weight]]; [] when none counts. */
export function aggregate(ballots, nOptions) {
  let sums = null;
  for (const [ballot, weight] of ballots) {
    if (weight === 0) continue; // never a zero scalar: a weight-0 ballot adds nothing
    const terms = ciphertextsOf(ballot, nOptions).map(([a, b]) =>
      (weight === 1 ? [a, b] : [mul(BigInt(weight), a), mul(BigInt(weight), b)]));
    sums = sums === null ? terms : sums.map(([a, b], i) => [a.add(terms[i][0]), b.add(terms[i][1])]);
  }
  return sums === null ? [] : sums.map(([a, b]) => ({ a: pointHex(a), b: pointHex(b) }));
}

// --- partial decryption and combining ---------------------------------------------------------

function partialChallenge(boardId, option, member, kj, a, d, u, v) {
  return hashToScalar("meetings/partial/v1", `${boardId}|option|${option}`, String(member), kj, a, d, u, v);
}

/** D = s_j·A with a Chaum–Pedersen proof that log_G K_j = log_A D; one draw (w). */
export function provePartial(boardId, option, member, share, aggregateItem, rng = randomScalar) {
  const a = parsePoint(aggregateItem?.a, `aggregate ${option} a`);
  const kj = base(share);
  const d = mul(share, a);
  const w = rng();
  const c = partialChallenge(boardId, option, member, kj, a, d, base(w), mul(w, a));
  return { d: pointHex(d), c: scalarHex(c), z: scalarHex(w + c * share) };
}

/** Throw InvalidProof unless the partial decryption's proof against K_j holds. */
export function verifyPartial(boardId, option, memberIndex, verificationKey, aggregateItem, partialItem) {
  const what = `member ${memberIndex} option ${option}`;
  if (!exactKeys(partialItem, ["d", "c", "z"])) throw new InvalidProof(`${what}: needs exactly d, c, z`);
  const kj = parsePoint(verificationKey, "verification key");
  const a = parsePoint(aggregateItem?.a, "aggregate a");
  const d = parsePoint(partialItem.d, `${what} d`);
  const c = parseScalar(partialItem.c, "c");
  const z = parseScalar(partialItem.z, "z");
  const u = base(z).subtract(mul(c, kj));
  const v = mul(z, a).subtract(mul(c, d));
  if (c !== partialChallenge(boardId, option, memberIndex, kj, a, d, u, v)) {
    throw new InvalidProof(`${what}: partial decryption proof does not verify`);
  }
}

/** λ_j = Π_{m ≠ j} m·(m − j)^-1 mod ℓ, the weight of member j's share in f(0). */
export function lagrangeAtZero(j, members) {
  let lam = 1n;
  for (const m of members) {
    if (m !== j) lam = mod(lam * BigInt(m) * Point.Fn.inv(mod(BigInt(m - j))));
  }
  return lam;
}

function byIndex(messages, what) {
  const entries = messages instanceof Map ? [...messages] : Object.entries(messages ?? {});
  const out = new Map();
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i)) throw new InvalidProof(`${what}: keys must be member indices`);
    out.set(i, v);
  }
  return out;
}

/** Counts per option from verified partials {member: [{d, c, z}]} of at least k members. */
export function combine(boardId, aggregateItems, partials, maxCount) {
  const byMember = byIndex(partials, "partials");
  const members = [...byMember.keys()].sort((x, y) => x - y);
  if ((aggregateItems.length && !members.length) || members.some((m) => m < 1)) {
    throw new InvalidProof("partials: need member indices 1..n");
  }
  return aggregateItems.map((item, n) => {
    const i = n + 1;
    let s = null;
    for (const j of members) {
      const shares = byMember.get(j);
      if (!Array.isArray(shares) || shares.length !== aggregateItems.length) {
        throw new InvalidProof(`member ${j}: needs ${aggregateItems.length} partials`);
      }
      const term = mul(lagrangeAtZero(j, members), parsePoint(shares[n]?.d, "d"));
      s = s === null ? term : s.add(term);
    }
    const m = parsePoint(item.b, "aggregate b").subtract(s);
    let t = 0;
    for (let p = Point.ZERO; !p.equals(m); p = p.add(G)) {
      if (++t > maxCount) throw new InvalidProof(`${boardId} option ${i}: no count in 0..${maxCount}`);
    }
    return t;
  });
}

// --- the key ceremony: joint Feldman DKG ------------------------------------------------------

function pokChallenge(committeeUid, index, c0, r) {
  return hashToScalar("meetings/dkg-pok/v1", committeeUid, String(index), c0, r);
}

function sharePad(committeeUid, sender, recipient, ephemeral, shared) {
  return hashBytes("meetings/dkg-share/v1", committeeUid, String(sender), String(recipient), ephemeral, shared)
    .slice(0, 32);
}

const xor = (a, b) => a.map((x, i) => x ^ b[i]);

function commitmentsOf(message, threshold, what) {
  const cs = message !== null && typeof message === "object" ? message.commitments : undefined;
  if (!Array.isArray(cs) || cs.length !== threshold) throw new InvalidProof(`${what}: needs ${threshold} commitments`);
  return cs.map((c) => parsePoint(c, `${what} commitment`));
}

/** Σ_l (index^l mod ℓ)·C_l: the public image f(index)·G of a committed polynomial (Horner). */
function feldman(index, commitments) {
  let acc = commitments[commitments.length - 1];
  for (let l = commitments.length - 2; l >= 0; l--) acc = mul(BigInt(index), acc).add(commitments[l]);
  return acc;
}

/** Throw InvalidProof if a round-1 message's shape, points or proof of knowledge of a_{i,0} is wrong. */
export function verifyRound1(committeeUid, index, threshold, message) {
  const what = `member ${index} round 1`;
  if (!exactKeys(message, ["transport_key", "commitments", "pok"])) {
    throw new InvalidProof(`${what}: needs exactly transport_key, commitments, pok`);
  }
  parsePoint(message.transport_key, `${what} transport key`);
  const c0 = commitmentsOf(message, threshold, what)[0];
  if (!exactKeys(message.pok, ["c", "z"])) throw new InvalidProof(`${what}: pok needs exactly c, z`);
  const c = parseScalar(message.pok.c, "pok c");
  const z = parseScalar(message.pok.z, "pok z");
  const r = base(z).subtract(mul(c, c0));
  if (c !== pokChallenge(committeeUid, index, c0, r)) throw new InvalidProof(`${what}: proof of knowledge does not verify`);
}

/** K_j = Σ_i Σ_l (j^l)·C_{i,l}: member j's public share, from everyone's commitments {i: [hex]}. */
export function expectedVerificationKey(index, commitmentsOfAll) {
  const perMember = [...byIndex(commitmentsOfAll, "commitments").values()]
    .map((cs) => (Array.isArray(cs) ? cs : []).map((c) => parsePoint(c, "commitment")));
  if (!perMember.length || new Set(perMember.map((cs) => cs.length)).size !== 1 || !perMember[0].length) {
    throw new InvalidProof("commitments: every member needs the same non-zero number");
  }
  const summed = perMember.slice(1).reduce((acc, cs) => acc.map((p, l) => p.add(cs[l])), perMember[0]);
  return pointHex(feldman(index, summed));
}

/** Y = Σ_i C_{i,0}, the committee's public key. */
export function committeePublicKey(commitmentsOfAll) {
  let y = null;
  for (const cs of byIndex(commitmentsOfAll, "commitments").values()) {
    if (!Array.isArray(cs) || !cs.length) throw new InvalidProof("commitments: empty");
    const c0 = parsePoint(cs[0], "commitment");
    y = y === null ? c0 : y.add(c0);
  }
  if (y === null || y.is0()) throw new InvalidProof("commitments: no public key");
  return pointHex(y);
}

/** Key order-insensitive comparison of two JSON messages (the server may reorder keys). */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const DEVICE_FORMAT = "meetings-committee-device/1";

/**
 * What a committee member's tablet does: the ceremony (round1 → round2 → confirm) and, with its
 * key share, partial decryptions. Random draws, in order: round1 → t, a_0 … a_{k-1}, w; round2 →
 * one e per other member in index order; partialDecrypt → one w per option.
 */
export class CommitteeMemberDevice {
  constructor(committeeUid, index, threshold, size, rng = randomScalar) {
    if (![index, threshold, size].every(Number.isInteger) || threshold < 2 || threshold > size
      || index < 1 || index > size) {
      throw new RangeError("need 2 ≤ threshold ≤ size and 1 ≤ index ≤ size");
    }
    Object.assign(this, { committeeUid, index, threshold, size, rng });
    this.transport = 0n;
    this.coefficients = [];
    this.round1Message = null;
    this.keyShare = null; // s_j: kept sealed under the passphrase (sealShare), never sent
    this.verificationKey = null;
  }

  /** A device restored from its kept share s_j (BigInt), ready to decrypt. */
  static fromKeyShare(committeeUid, index, threshold, size, keyShare, rng = randomScalar) {
    const device = new CommitteeMemberDevice(committeeUid, index, threshold, size, rng);
    device.keyShare = mod(BigInt(keyShare));
    device.verificationKey = pointHex(base(device.keyShare));
    return device;
  }

  /** The ceremony's secrets as JSON (to seal with sealShare across a reload mid-ceremony). */
  exportState() {
    return {
      format: DEVICE_FORMAT, committee_uid: this.committeeUid, index: this.index, threshold: this.threshold,
      size: this.size, transport: scalarHex(this.transport), coefficients: this.coefficients.map(scalarHex),
      round1: this.round1Message, key_share: this.keyShare === null ? null : scalarHex(this.keyShare),
    };
  }

  /** The device back from exportState()'s JSON. */
  static importState(state, rng = randomScalar) {
    if (state?.format !== DEVICE_FORMAT) throw new InvalidProof("device state: unknown format");
    const device = new CommitteeMemberDevice(state.committee_uid, state.index, state.threshold, state.size, rng);
    device.transport = parseScalar(state.transport, "transport");
    device.coefficients = state.coefficients.map((c) => parseScalar(c, "coefficient"));
    device.round1Message = state.round1;
    if (state.key_share !== null) {
      device.keyShare = parseScalar(state.key_share, "key share");
      device.verificationKey = pointHex(base(device.keyShare));
    }
    return device;
  }

  f(x) {
    let acc = 0n;
    let power = 1n;
    for (const a of this.coefficients) {
      acc += a * power;
      power = mod(power * BigInt(x));
    }
    return mod(acc);
  }

  /** Transport key, Feldman commitments and the proof of knowledge of a_0: {transport_key, commitments, pok}. */
  round1() {
    this.transport = this.rng();
    this.coefficients = Array.from({ length: this.threshold }, () => this.rng());
    const w = this.rng();
    const c0 = base(this.coefficients[0]);
    const c = pokChallenge(this.committeeUid, this.index, c0, base(w));
    this.round1Message = {
      transport_key: pointHex(base(this.transport)),
      commitments: this.coefficients.map((a) => pointHex(base(a))),
      pok: { c: scalarHex(c), z: scalarHex(w + c * this.coefficients[0]) },
    };
    return this.round1Message;
  }

  checkRound1(round1OfAll) {
    const msgs = byIndex(round1OfAll, "round 1");
    const expected = range(1, this.size);
    if (msgs.size !== this.size || !expected.every((i) => msgs.has(i))) {
      throw new InvalidProof("round 1: not every member has published");
    }
    if (this.round1Message !== null && canonical(msgs.get(this.index)) !== canonical(this.round1Message)) {
      throw new InvalidProof("round 1: my own message was changed", this.index);
    }
    for (const [i, msg] of [...msgs].sort((x, y) => x[0] - y[0])) {
      try {
        verifyRound1(this.committeeUid, i, this.threshold, msg);
      } catch (err) {
        if (err instanceof InvalidProof) throw new InvalidProof(err.reason, i);
        throw err;
      }
    }
    return msgs;
  }

  /** [{to, ephemeral, ciphertext}]: each other member's share f_i(j) encrypted to its transport key. */
  round2(round1OfAll) {
    const msgs = this.checkRound1(round1OfAll);
    const out = [];
    for (let j = 1; j <= this.size; j++) {
      if (j === this.index) continue;
      const e = this.rng();
      const ephemeral = base(e);
      const shared = mul(e, parsePoint(msgs.get(j).transport_key));
      const pad = sharePad(this.committeeUid, this.index, j, ephemeral, shared);
      out.push({ to: j, ephemeral: pointHex(ephemeral), ciphertext: bytesToHex(xor(scalarBytes(this.f(j)), pad)) });
    }
    return out;
  }

  openShare(sender, msg, commitments) {
    try {
      if (msg === null || typeof msg !== "object" || ("to" in msg && msg.to !== this.index)) {
        throw new InvalidProof("share not addressed to me");
      }
      const ephemeral = parsePoint(msg.ephemeral, "ephemeral");
      const ct = hex32(msg.ciphertext, "ciphertext");
      const pad = sharePad(this.committeeUid, sender, this.index, ephemeral, mul(this.transport, ephemeral));
      const share = littleEndian(xor(ct, pad));
      if (share >= ORDER || !base(share).equals(feldman(this.index, commitments))) {
        throw new InvalidProof("share fails Feldman's check");
      }
      return share;
    } catch (err) {
      if (err instanceof InvalidProof) throw new InvalidProof(`member ${sender}: ${err.reason}`, sender);
      throw err;
    }
  }

  /**
   * Open and check (Feldman) every share sent to me {sender: {ephemeral, ciphertext}}; keep s_j and
   * return K_j (hex). Throws InvalidProof with ``against`` = the sender of the first bad or missing share.
   */
  confirm(round1OfAll, sharesToMe) {
    const msgs = this.checkRound1(round1OfAll);
    const shares = byIndex(sharesToMe, "shares");
    let total = this.f(this.index);
    for (let i = 1; i <= this.size; i++) {
      if (i === this.index) continue;
      if (!shares.has(i)) throw new InvalidProof(`member ${i}: no share`, i);
      total += this.openShare(i, shares.get(i), commitmentsOf(msgs.get(i), this.threshold, `member ${i}`));
    }
    this.keyShare = mod(total);
    this.verificationKey = pointHex(base(this.keyShare));
    return this.verificationKey;
  }

  /** [{d, c, z}] per option of the encrypted tally [{a, b}], each with its Chaum–Pedersen proof. */
  partialDecrypt(boardId, aggregateItems) {
    if (this.keyShare === null) throw new Error("no key share: the ceremony is not finished on this device");
    return aggregateItems.map((item, n) => provePartial(boardId, n + 1, this.index, this.keyShare, item, this.rng));
  }
}

// --- the key share on the tablet, sealed under the member's passphrase ------------------------

const SEAL_FORMAT = "meetings-sealed-secret/1";
const SEAL_ITERATIONS = 310_000; // PBKDF2-HMAC-SHA-256, OWASP's figure (2023)

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

async function sealingKey(passphrase, salt, iterations) {
  // NFC: Vietnamese keyboards may type "ệ" precomposed or as e + marks; the same passphrase either way.
  const material = await crypto.subtle.importKey("raw", utf8.encode(String(passphrase).normalize("NFC")),
    "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material,
    { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/**
 * Seal a key share (BigInt) or a device state (exportState() JSON) under a passphrase: PBKDF2-SHA-256
 * (310,000 iterations, random 16-byte salt) → AES-GCM-256 (random 12-byte iv). Returns JSON
 * {format, kdf, iterations, salt, iv, ciphertext} (base64) for localStorage.
 */
export async function sealShare(secret, passphrase) {
  const payload = typeof secret === "bigint" ? { scalar: scalarHex(secret) } : { state: secret };
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await sealingKey(passphrase, salt, SEAL_ITERATIONS);
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(SEAL_FORMAT) },
    key, utf8.encode(JSON.stringify(payload)));
  return { format: SEAL_FORMAT, kdf: "PBKDF2-SHA-256", iterations: SEAL_ITERATIONS, salt: b64(salt), iv: b64(iv),
    ciphertext: b64(new Uint8Array(ciphertext)) };
}

/** What sealShare sealed (the BigInt share or the state JSON); InvalidProof for a wrong passphrase. */
export async function openShare(sealed, passphrase) {
  const iterations = sealed?.iterations;
  if (sealed?.format !== SEAL_FORMAT || !Number.isInteger(iterations) || iterations < SEAL_ITERATIONS
    || iterations > 100 * SEAL_ITERATIONS) {
    throw new InvalidProof("sealed secret: unknown format");
  }
  let plain;
  try {
    const key = await sealingKey(passphrase, unb64(sealed.salt), iterations);
    plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(sealed.iv), additionalData: utf8.encode(SEAL_FORMAT) },
      key, unb64(sealed.ciphertext));
  } catch {
    throw new InvalidProof("sealed secret: wrong passphrase or damaged");
  }
  const payload = JSON.parse(new TextDecoder().decode(plain));
  return "scalar" in payload ? parseScalar(payload.scalar, "sealed share") : payload.state;
}
