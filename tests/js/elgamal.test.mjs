// static/js/core/elgamal.js against the shared vectors (tests/vectors/ballot_crypto.json, made by
// the Python module), plus what the vectors cannot show: refusals, complaints, the sealed share.
// Run: node --test tests/js/  (tests/test_ballot_crypto_js.py runs it under pytest).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as eg from "../../static/js/core/elgamal.js";

const V = JSON.parse(readFileSync(new URL("../vectors/ballot_crypto.json", import.meta.url), "utf8"));

/** An rng replaying the vector's draws in order; ``done()`` checks every draw was used. */
function replay(draws) {
  const queue = [...draws];
  const rng = () => {
    assert.ok(queue.length, "drew more randomness than the vector lists");
    return eg.parseScalar(queue.shift());
  };
  rng.done = () => assert.equal(queue.length, 0, "drew less randomness than the vector lists");
  return rng;
}

const part = (p) => (p.type === "bytes" ? Uint8Array.from(Buffer.from(p.hex, "hex")) : p.value);
const clone = (x) => JSON.parse(JSON.stringify(x));

test("the group's order and base point are the vectors'", () => {
  assert.equal(eg.ORDER.toString(), V.order);
  assert.equal(eg.publicKeyOf(1n), V.base_point);
});

test("Hs and Hb of the vectors' parts", () => {
  for (const h of V.hashes) {
    const parts = h.parts.map(part);
    assert.equal(eg.bytesToHex(eg.hashBytes(h.domain, ...parts)), h.hb);
    assert.equal(eg.scalarHex(eg.hashToScalar(h.domain, ...parts)), h.hs);
  }
});

test("scalar multiples of the base point", () => {
  for (const { scalar, point } of V.scalar_mults) assert.equal(eg.publicKeyOf(eg.parseScalar(scalar)), point);
});

test("ElGamal encryption with fixed r", () => {
  const e = V.encryption;
  assert.equal(eg.publicKeyOf(eg.parseScalar(e.secret_key)), e.public_key);
  for (const c of e.cases) assert.deepEqual(eg.encrypt(e.public_key, c.m, eg.parseScalar(c.r)), { a: c.a, b: c.b });
});

test("range proofs with fixed randomness, and their verification", () => {
  for (const v of V.range_proofs) {
    const [y, a, b] = [v.public_key, v.a, v.b].map((h) => eg.parsePoint(h));
    const rng = replay(v.randomness);
    assert.deepEqual(eg.proveRange(y, a, b, v.values, v.index, eg.parseScalar(v.r), v.ctx, rng), v.proof);
    rng.done();
    eg.verifyRange(y, a, b, v.values, v.ctx, v.proof);
    assert.throws(() => eg.verifyRange(y, a, b, v.values, `${v.ctx}x`, v.proof), eg.InvalidProof);
    assert.throws(() => eg.verifyRange(y, b, a, v.values, v.ctx, v.proof), eg.InvalidProof);
  }
});

test("whole ballots: ciphertexts, proofs, hash and tracking code", () => {
  for (const v of V.ballots) {
    const rng = replay(v.randomness);
    const ballot = eg.encryptBallot(v.public_key, v.board_id, v.n_options, v.chosen, v.min_choices, v.max_choices, rng);
    rng.done();
    assert.deepEqual(ballot, v.ballot, v.name);
    assert.equal(eg.ballotHash(v.board_id, ballot), v.hash, v.name);
    assert.equal(eg.trackingCode(v.hash), v.tracking_code, v.name);
    eg.verifyBallot(v.public_key, v.board_id, v.n_options, v.min_choices, v.max_choices, ballot);
  }
});

test("the key ceremony of 3 members, k = 2, with fixed randomness", () => {
  const c = V.ceremony;
  const rngs = {};
  const devices = {};
  const round1 = {};
  for (const m of c.members) {
    rngs[m.index] = replay([...m.randomness.round1, ...m.randomness.round2]);
    devices[m.index] = new eg.CommitteeMemberDevice(c.committee_uid, m.index, c.threshold, c.size, rngs[m.index]);
    round1[m.index] = devices[m.index].round1();
    assert.deepEqual(round1[m.index], m.round1);
    eg.verifyRound1(c.committee_uid, m.index, c.threshold, m.round1);
  }
  const round2 = {};
  for (const m of c.members) {
    round2[m.index] = devices[m.index].round2(round1);
    assert.deepEqual(round2[m.index], m.round2);
    rngs[m.index].done();
  }
  const commitments = Object.fromEntries(c.members.map((m) => [m.index, m.round1.commitments]));
  for (const m of c.members) {
    const toMe = {};
    for (const o of c.members) if (o.index !== m.index) toMe[o.index] = round2[o.index].find((s) => s.to === m.index);
    assert.equal(devices[m.index].confirm(round1, toMe), m.verification_key);
    assert.equal(eg.scalarHex(devices[m.index].keyShare), m.key_share);
    assert.equal(eg.expectedVerificationKey(m.index, commitments), m.verification_key);
  }
  assert.equal(eg.committeePublicKey(commitments), c.public_key);
});

test("the tally: ballots, aggregate, partial decryptions, Lagrange weights and the counts", () => {
  const t = V.tally;
  const members = Object.fromEntries(V.ceremony.members.map((m) => [m.index, m]));
  for (const b of t.ballots) {
    const rng = replay(b.randomness);
    assert.deepEqual(eg.encryptBallot(t.public_key, t.board_id, t.n_options, b.chosen, t.min_choices, t.max_choices, rng),
      b.ballot);
    assert.equal(eg.ballotHash(t.board_id, b.ballot), b.hash);
  }
  assert.deepEqual(eg.aggregate(t.ballots.map((b) => [b.ballot, b.weight]), t.n_options), t.aggregate);
  const partials = {};
  for (const [j, p] of Object.entries(t.partials)) {
    const m = members[j];
    const rng = replay(p.randomness);
    const device = eg.CommitteeMemberDevice.fromKeyShare(V.ceremony.committee_uid, m.index, V.ceremony.threshold,
      V.ceremony.size, eg.parseScalar(m.key_share), rng);
    assert.equal(device.verificationKey, m.verification_key);
    partials[j] = device.partialDecrypt(t.board_id, t.aggregate);
    rng.done();
    assert.deepEqual(partials[j], p.shares);
    p.shares.forEach((s, n) => eg.verifyPartial(t.board_id, n + 1, m.index, m.verification_key, t.aggregate[n], s));
  }
  for (const [j, lam] of Object.entries(t.lagrange)) {
    assert.equal(eg.scalarHex(eg.lagrangeAtZero(Number(j), Object.keys(t.lagrange).map(Number))), lam);
  }
  assert.deepEqual(eg.combine(t.board_id, t.aggregate, partials, t.max_count), t.counts);
});

test("invalid points and scalars are refused", () => {
  for (const [name, h] of Object.entries(V.invalid.points)) {
    assert.throws(() => eg.parsePoint(h), eg.InvalidProof, name);
  }
  for (const [name, h] of Object.entries(V.invalid.scalars)) {
    assert.throws(() => eg.parseScalar(h), eg.InvalidProof, name);
  }
  assert.throws(() => eg.parsePoint(42), eg.InvalidProof);
});

// --- beyond the vectors: fresh randomness, tampering, complaints ---------------------------------

const Y = eg.publicKeyOf(eg.randomScalar());
const BID = "00112233445566778899aabbccddeeff";

test("a fresh ballot verifies; tampered ones are refused", () => {
  const ballot = eg.encryptBallot(Y, BID, 3, [2], 1, 1);
  eg.verifyBallot(Y, BID, 3, 1, 1, ballot);
  assert.match(eg.trackingCode(eg.ballotHash(BID, ballot)), /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
  const refused = (b, rules = [3, 1, 1], bid = BID) => assert.throws(() => eg.verifyBallot(Y, bid, ...rules, b), eg.InvalidProof);
  refused(ballot, [3, 1, 1], "ffffffffffffffffffffffffffffffff"); // another poll's board
  refused(ballot, [3, 2, 2]); // another poll's rules
  const swapped = clone(ballot); // option 1's ciphertext under option 3's proof
  [swapped.ciphertexts[0].a, swapped.ciphertexts[2].a] = [swapped.ciphertexts[2].a, swapped.ciphertexts[0].a];
  refused(swapped);
  const doubled = clone(ballot); // b + G: option 3 would count 2
  doubled.ciphertexts[2].b = eg.pointHex(eg.parsePoint(doubled.ciphertexts[2].b).add(eg.parsePoint(V.base_point)));
  refused(doubled);
  const extra = clone(ballot);
  extra.note = "x";
  refused(extra);
  const nonCanonical = clone(ballot);
  nonCanonical.total_proof[0].z = V.invalid.scalars.order;
  refused(nonCanonical);
  assert.throws(() => eg.encryptBallot(Y, BID, 3, [0, 1], 1, 1), RangeError); // two marks on a pick-1 poll
  assert.throws(() => eg.encryptBallot(Y, BID, 3, [3], 1, 1), RangeError);
});

test("a blank ballot (v = 0 in the total's range) and an all-chosen one verify", () => {
  eg.verifyBallot(Y, BID, 2, 0, 2, eg.encryptBallot(Y, BID, 2, [], 0, 2));
  eg.verifyBallot(Y, BID, 2, 0, 2, eg.encryptBallot(Y, BID, 2, [0, 1], 0, 2));
});

function ceremony(k, n, uid = "aa".repeat(16)) {
  const devices = Array.from({ length: n }, (_, i) => new eg.CommitteeMemberDevice(uid, i + 1, k, n));
  const round1 = Object.fromEntries(devices.map((d) => [d.index, d.round1()]));
  const round2 = Object.fromEntries(devices.map((d) => [d.index, d.round2(round1)]));
  const sharesTo = (j) => Object.fromEntries(devices.filter((d) => d.index !== j)
    .map((d) => [d.index, round2[d.index].find((s) => s.to === j)]));
  return { devices, round1, round2, sharesTo };
}

test("a bad round-1 proof stops round 2, naming the member", () => {
  const { devices, round1 } = ceremony(2, 3);
  const bad = clone(round1);
  bad[2].pok.z = bad[3].pok.z;
  assert.throws(() => devices[0].round2(bad), (err) => err instanceof eg.InvalidProof && err.against === 2);
  const changed = clone(round1);
  changed[1].transport_key = round1[2].transport_key;
  assert.throws(() => devices[0].round2(changed), (err) => err.against === 1); // my own message altered
  const missing = clone(round1);
  delete missing[3];
  assert.throws(() => devices[0].round2(missing), eg.InvalidProof);
});

test("a share failing Feldman's check is a complaint against its sender", () => {
  const { devices, round1, sharesTo } = ceremony(2, 3);
  const to1 = sharesTo(1);
  const ct = to1[3].ciphertext;
  to1[3] = { ...to1[3], ciphertext: (ct[0] === "0" ? "1" : "0") + ct.slice(1) };
  assert.throws(() => devices[0].confirm(round1, to1), (err) => err instanceof eg.InvalidProof && err.against === 3);
  const missing = sharesTo(2);
  delete missing[1];
  assert.throws(() => devices[1].confirm(round1, missing), (err) => err.against === 1);
});

test("any k of n members count; a wrong partial is refused", () => {
  const { devices, round1, sharesTo } = ceremony(2, 3);
  const keys = devices.map((d) => d.confirm(round1, sharesTo(d.index)));
  const commitments = Object.fromEntries(Object.entries(round1).map(([i, m]) => [i, m.commitments]));
  devices.forEach((d) => assert.equal(eg.expectedVerificationKey(d.index, commitments), keys[d.index - 1]));
  const y = eg.committeePublicKey(commitments);
  const ballots = [[[0], 1], [[1], 1], [[1], 3], [[2], 1]].map(([c, w]) => [eg.encryptBallot(y, BID, 3, c, 1, 1), w]);
  const agg = eg.aggregate(ballots, 3);
  const partials = Object.fromEntries(devices.map((d) => [d.index, d.partialDecrypt(BID, agg)]));
  for (const pair of [[1, 2], [1, 3], [2, 3]]) {
    assert.deepEqual(eg.combine(BID, agg, Object.fromEntries(pair.map((j) => [j, partials[j]])), 6), [1, 4, 1]);
  }
  partials[2].forEach((s, n) => eg.verifyPartial(BID, n + 1, 2, keys[1], agg[n], s));
  assert.throws(() => eg.verifyPartial(BID, 1, 2, keys[0], agg[0], partials[2][0]), eg.InvalidProof); // another's key
  assert.throws(() => eg.verifyPartial(BID, 2, 2, keys[1], agg[1], partials[2][0]), eg.InvalidProof); // another option
  assert.throws(() => eg.combine(BID, agg, { 1: partials[1] }, 6), eg.InvalidProof); // fewer than k
});

test("the device's ceremony state survives export and import", () => {
  const { devices, round1, sharesTo } = ceremony(2, 2);
  const restored = eg.CommitteeMemberDevice.importState(JSON.parse(JSON.stringify(devices[0].exportState())));
  assert.equal(restored.confirm(round1, sharesTo(1)), devices[0].confirm(round1, sharesTo(1)));
});

test("the sealed share opens with its passphrase only", async () => {
  const secret = eg.randomScalar();
  const sealed = await eg.sealShare(secret, "Mật khẩu dài\u0301");
  assert.deepEqual(Object.keys(sealed).sort(), ["ciphertext", "format", "iterations", "iv", "kdf", "salt"]);
  assert.equal(sealed.iterations, 310000);
  assert.ok(!JSON.stringify(sealed).includes(eg.scalarHex(secret)));
  assert.equal(await eg.openShare(sealed, "Mật khẩu dài\u0301".normalize("NFD")), secret); // NFC either way
  await assert.rejects(eg.openShare(sealed, "mật khẩu dài"), eg.InvalidProof);
  await assert.rejects(eg.openShare({ ...sealed, iv: (await eg.sealShare(secret, "x")).iv }, "Mật khẩu dài\u0301"),
    eg.InvalidProof);
  await assert.rejects(eg.openShare({ ...sealed, iterations: 1000 }, "Mật khẩu dài\u0301"), eg.InvalidProof);
  const again = await eg.sealShare(secret, "Mật khẩu dài\u0301");
  assert.notEqual(again.salt, sealed.salt); // fresh salt and iv each time
  assert.notEqual(again.iv, sealed.iv);
  const state = { format: "x", list: [1, 2] };
  assert.deepEqual(await eg.openShare(await eg.sealShare(state, "pass-word"), "pass-word"), state);
});

test("random scalars are non-zero, canonical and distinct", () => {
  const seen = new Set(Array.from({ length: 50 }, () => eg.randomScalar()));
  assert.equal(seen.size, 50);
  for (const s of seen) assert.ok(s > 0n && s < eg.ORDER);
});

test("encryption time of a 3-option ballot (node)", (t) => {
  eg.encryptBallot(Y, BID, 3, [0], 1, 1); // warm-up: the base point's table
  const runs = 20;
  const start = performance.now();
  for (let i = 0; i < runs; i++) eg.encryptBallot(Y, BID, 3, [i % 3], 1, 1);
  const ms = (performance.now() - start) / runs;
  t.diagnostic(`encryptBallot 3 options: ${ms.toFixed(1)} ms per ballot (node ${process.version})`);
  assert.ok(ms < 2000); // a deadline, not a measurement
});
