// The JavaScript side of a mixed ceremony and count, for tests/test_ballot_crypto_js.py: reads one
// request (JSON) on stdin, answers JSON on stdout. The devices' secrets travel between steps as
// exportState() JSON, so every step is a fresh node process, as a reloaded tablet would be.
//
//   {"step": "round1", "uid", "threshold", "size", "members": [1, 2]} → {round1: {i: msg}, states: {i: state}}
//   {"step": "round2", "states", "round1": {i: msg}}                 → {round2: {i: [share]}, states}
//   {"step": "confirm", "states", "round1", "shares": {j: {i: share}}} → {keys: {j: K_j} | complaints: {j: i}, states}
//   {"step": "ballots", "public_key", "board_id", "n_options", "min_choices", "max_choices", "choices": [[pos]]}
//                                                                      → {ballots: [ballot], hashes, codes}
//   {"step": "partials", "states", "board_id", "aggregate"}           → {partials: {j: [{d, c, z}]}}
import { readFileSync } from "node:fs";

import * as eg from "../../static/js/core/elgamal.js";

const request = JSON.parse(readFileSync(0, "utf8"));
const devices = (states) => Object.fromEntries(Object.entries(states).map(([i, s]) => [i, eg.CommitteeMemberDevice.importState(s)]));
const states = (ds) => Object.fromEntries(Object.entries(ds).map(([i, d]) => [i, d.exportState()]));
const each = (ds, fn) => Object.fromEntries(Object.entries(ds).map(([i, d]) => [i, fn(d, Number(i))]));

const steps = {
  round1({ uid, threshold, size, members }) {
    const ds = Object.fromEntries(members.map((i) => [i, new eg.CommitteeMemberDevice(uid, i, threshold, size)]));
    return { round1: each(ds, (d) => d.round1()), states: states(ds) };
  },
  round2(req) {
    const ds = devices(req.states);
    return { round2: each(ds, (d) => d.round2(req.round1)), states: states(ds) };
  },
  confirm(req) {
    const ds = devices(req.states);
    const keys = {};
    const complaints = {};
    for (const [j, d] of Object.entries(ds)) {
      try {
        keys[j] = d.confirm(req.round1, req.shares[j]);
      } catch (err) {
        if (!(err instanceof eg.InvalidProof)) throw err;
        complaints[j] = err.against;
      }
    }
    return { keys, complaints, states: states(ds) };
  },
  ballots(req) {
    const ballots = req.choices.map((chosen) => eg.encryptBallot(req.public_key, req.board_id, req.n_options, chosen,
      req.min_choices, req.max_choices));
    const hashes = ballots.map((b) => eg.ballotHash(req.board_id, b));
    return { ballots, hashes, codes: hashes.map(eg.trackingCode) };
  },
  partials(req) {
    return { partials: each(devices(req.states), (d) => d.partialDecrypt(req.board_id, req.aggregate)) };
  },
};

process.stdout.write(JSON.stringify(steps[request.step](request)));
