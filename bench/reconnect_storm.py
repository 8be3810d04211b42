"""Reconnect storm: N tablets drop at once, miss events, reconnect at once, catch up.

    .venv/bin/python -m bench.reconnect_storm --clients 1000 --missed 20

N clients (in --procs processes) join one meeting on the real server; all
disconnect; the chair turns --missed pages while they are away; all reconnect
at the same moment and send ``meeting.join`` with their last seq. Reported:
the time from the reconnect signal until the last client is caught up, and
whether every client got exactly the missed seqs, in order, nothing lost or
doubled. Goal: all caught up within 10 s. Bounded; not a test.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import scratch_postgresql, write_json
from bench.fanout import Crowd, Server, make_world, presenter, turn


def run(n: int, missed: int, procs: int, url_db: str | None, work: Path) -> dict:
    url_db = url_db or f"sqlite:///{work / 'bench.sqlite3'}"
    world = make_world(url_db, n)
    env = {"DATABASE_URL": url_db, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench",
           "LOG_LEVEL": "WARNING"}
    server = Server("wsgi:app", env, work / "live.log")
    crowd = None
    try:
        crowd = Crowd(server.url, "live", world["meeting_id"], world["delegates"], procs)
        join_errors = sum(r[1] for r in crowd.ask(None))
        chair = presenter(server.url, "live", world)
        turn(chair, "live", world["meeting_id"], 2)  # everyone has seen seq 1
        time.sleep(1)
        before = [seq for r in crowd.ask("report") for seq in r[2]]
        crowd.ask("drop")
        for page in range(3, 3 + missed):
            turn(chair, "live", world["meeting_id"], page)
        final_seq = 1 + missed
        signal_at = time.time()
        answers = crowd.ask("reconnect")
        done_at = max(a[2] for a in answers)
        reports = crowd.ask("report")
        lost = doubled = wrong_order = 0
        for r in reports:
            for received, last in zip(r[1], r[2], strict=True):
                seqs = [s for s, _, _ in received]
                expected = list(range(2, final_seq + 1))
                lost += len(set(expected) - set(seqs)) + (last != final_seq)
                doubled += len(seqs) - len(set(seqs))
                wrong_order += seqs != sorted(seqs)
        chair.disconnect()
        return {"clients": n, "missed_events": missed, "join_errors": join_errors,
                "reconnect_errors": sum(a[3] for a in answers), "errors_sample": [e for a in answers for e in a[4]][:3],
                "all_saw_seq_1_before": all(s == 1 for s in before),
                "caught_up_seconds": round(done_at - signal_at, 2), "clients_missing_events": lost,
                "duplicates": doubled, "out_of_order": wrong_order, "server_rss_mb": round(server.rss_mb()[0], 1)}
    finally:
        if crowd is not None:
            crowd.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[1000])
    ap.add_argument("--missed", type=int, default=20)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--database-url")
    ap.add_argument("--postgresql", action="store_true",
                    help="run on a scratch PostgreSQL database created for this run and dropped afterwards")
    ap.add_argument("--quick", action="store_true", help="100 clients, 10 missed events (a smoke run)")
    ap.add_argument("--json", help="also write the results, as one JSON list, to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.missed, args.procs = [100], 10, 2
    results = []
    for n in args.clients:
        with tempfile.TemporaryDirectory(prefix="storm-") as tmp:
            if args.postgresql and not args.database_url:
                with scratch_postgresql("bench_storm") as url:  # one fresh database per N
                    results.append(run(n, args.missed, args.procs, url, Path(tmp)))
            else:
                results.append(run(n, args.missed, args.procs, args.database_url, Path(tmp)))
        results[-1]["database"] = "postgresql" if args.postgresql or (args.database_url or "").startswith(
            "postgresql") else "sqlite"
        print(json.dumps(results[-1]), flush=True)
        write_json(args.json, results)


if __name__ == "__main__":
    main()
