"""Shared-annotation fan-out: N delegates in one meeting, some of them drawing shared ink strokes.

    .venv/bin/python -m bench.annotation_fanout --clients 250 500 1000 --drawers 5 --rate 10 --seconds 10
    .venv/bin/python -m bench.annotation_fanout --clients 1000 --drawers 5 --crowd 50   # + 50 drawing at once

Starts the real server (gunicorn + gevent worker, SQLite by default or
--database-url), creates a meeting with N delegates and one published
document, connects N python-socketio clients from --procs client processes,
joins them to the meeting, then lets --drawers of them draw as the tablet app
does (static/js/room/in_flight.js): each stroke lasts STROKE_SECONDS, its new
points go out --rate times a second as the volatile ``annotation.stroke_progress``
(no acknowledgement: relayed to the room, never stored), then the finished
stroke is stored once with ``annotation.create`` (acknowledged; permission
checks, audit entry, event-log seq, broadcast after commit). The bare server
(bench/bare_server.py) runs the same clients: ``stroke`` relayed to the hall
without the sender, ``finish`` broadcast as an event, no auth, no database.

Reported: fan-out latency of the strokes in flight from the drawer's emit to
each other client's receipt (p50/p99/max; one machine clock: the send time
travels as the first point's x, in ms modulo 10 s), deliveries against those
due (every message to every other client), the finished strokes' latency, the
server worker's CPU (of one core) and RSS, and ``saturated`` (with the reasons):
the worker near 100 % of its core, fewer than 95 % of the deliveries made, or the
drawers unable to send at the offered rate. With --crowd K the
largest N runs once more with K drawers (modes ``crowd_live``/``crowd_bare``).
Bounded: every wait has a deadline, the server and the clients are stopped at
the end. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402
from bench.fanout import DEADLINE, Server, make_world, pct  # noqa: E402

POINTS_PER_MESSAGE = 10  # ~100 ms of pen points, like a tablet sampling at ~100 Hz
STROKE_SECONDS = 1.0  # then the finished stroke is stored, and the next one starts
PROGRESS = "annotation.stroke_progress"


def _time_code() -> float:
    """The send time as a page coordinate (ms modulo 10 s: within the ±14,400 pt the server allows)."""
    return round((time.time() % 10) * 1000, 2)


def _age_ms(code: float) -> float:
    return ((time.time() % 10) * 1000 - code) % 10_000


def add_document(url: str, meeting_id: int, storage: Path) -> int:
    """One published PDF in the bench meeting, through the documents domain's intake."""
    from sqlalchemy.orm import Session

    from meetings.bodies.models import Meeting
    from meetings.core.db import make_engine
    from meetings.documents.service import add_document as add
    from meetings.platform.realtime import eventlog
    from tests.annotation_helpers import PAGE_TEXTS, pdf_with_lines

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            doc = add(s, s.get(Meeting, meeting_id), pdf_with_lines(PAGE_TEXTS), title="Tờ trình thử tải",
                      filename="bench.pdf", uploaded_by_id=None, published=True, storage_path=storage)
            s.info.pop(eventlog._PENDING, None)  # no socket server in this process to announce it
            s.commit()
            return doc.id
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------- client processes

def client_main(conn, url: str, meeting_id: int, document_id: int, tokens: list, drawers: int,
                rate: float, stroke_seconds: float) -> None:
    asyncio.run(_clients(conn, url, meeting_id, document_id, tokens, drawers, rate, stroke_seconds))


async def _clients(conn, url, meeting_id, document_id, tokens, drawers, rate, stroke_seconds):
    bare = tokens[0] is None  # bench/bare_server.py: no auth, no database, the same relay
    import socketio

    loop = asyncio.get_running_loop()
    latencies: list[float] = []  # strokes in flight
    finished: list[float] = []
    owner: dict[str, int] = {}  # stroke id -> the index of the client drawing it (not a receiver of it)
    errors: list[str] = []
    counts = {"progress_sent": 0, "strokes_acked": 0, "strokes_refused": 0, "messages": 0}
    clients = [socketio.AsyncClient(reconnection=False) for _ in tokens]

    for me, sio in enumerate(clients):
        @sio.on(PROGRESS)
        async def _progress(msg):
            counts["messages"] += 1
            for s in msg["strokes"]:
                latencies.append(_age_ms(s["points"][0][0]))

        @sio.on("event")
        async def _on(env, me=me):
            ann = env.get("data", {}).get("annotation") or {}
            if env.get("type") == "annotation.created" and owner.get(ann.get("id")) != me and ann.get("text"):
                finished.append((time.time() - float(ann["text"])) * 1000)

    sem = asyncio.Semaphore(50)

    async def connect_one(i):
        async with sem:
            auth = None if bare else {"token": tokens[i]}
            await clients[i].connect(url, auth=auth, transports=["websocket"], wait_timeout=60)
            ack = await clients[i].call("join" if bare else "meeting.join", {"meeting_id": meeting_id}, timeout=60)
            if not ack.get("ok"):
                errors.append(f"join {i}: {ack}")

    await asyncio.gather(*(connect_one(i) for i in range(len(tokens))))
    conn.send(("ready", len(errors), errors[:3]))

    async def draw(me: int, until: float):
        sio = clients[me]
        per_stroke = max(1, round(rate * stroke_seconds))
        await asyncio.sleep(random.random() / rate)  # drawers do not all send on the same tick
        k, stores = 0, []
        while time.monotonic() < until:
            stroke_id = str(uuid.uuid4())
            owner[stroke_id] = me
            points: list[list[float]] = []
            for _ in range(per_stroke):
                if time.monotonic() >= until:
                    break
                tick = time.monotonic()
                k += 1
                new = [[100.0 + (k + j) % 300, 400.0 + (k * 7) % 200, 0.6] for j in range(POINTS_PER_MESSAGE - 1)]
                await sio.emit("stroke" if bare else PROGRESS, {
                    "meeting_id": meeting_id, "document_id": document_id, "page": 1, "stroke_id": stroke_id,
                    "points": [[_time_code(), 400.0, 0.5], *new], "color": "#d01010", "width": 2,
                    "visibility": "meeting"})
                counts["progress_sent"] += 1
                points += new
                await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))
            # As on the tablet, the next stroke does not wait for this one's acknowledgement.
            if points:
                stores.append(asyncio.ensure_future(store(sio, stroke_id, points)))
        await asyncio.gather(*stores)

    async def store(sio, stroke_id: str, points: list) -> None:
        ack = await sio.call("finish" if bare else "annotation.create", {
            "id": stroke_id, "document_id": document_id, "kind": "ink", "page": 1, "visibility": "meeting",
            "color": "#d01010", "geometry": {"strokes": [points], "width": 2}, "text": f"{time.time():.6f}"},
            timeout=60)
        if ack.get("ok"):
            counts["strokes_acked"] += 1
        else:
            counts["strokes_refused"] += 1
            errors.append(f"create: {ack.get('error')}")

    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if isinstance(cmd, tuple) and cmd[0] == "draw":
            until = time.monotonic() + cmd[1]
            await asyncio.gather(*(draw(i, until) for i in range(drawers)))
            conn.send(("drawn",))
        elif cmd == "report":
            conn.send(("report", latencies, counts, errors[:5], len(errors), finished))
        elif cmd == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


class Crowd:
    def __init__(self, url, meeting_id, document_id, tokens, procs, drawers, rate, stroke_seconds):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(procs):
            mine = tokens[k::procs]
            # Spread the drawers evenly over the processes.
            share = drawers // procs + (1 if k < drawers % procs else 0)
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, daemon=True,
                            args=(child, url, meeting_id, document_id, mine, min(share, len(mine)), rate,
                                  stroke_seconds))
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def ask(self, cmd, wait: float = DEADLINE) -> list[tuple]:
        if cmd:
            for p in self.pipes:
                p.send(cmd)
        out = []
        for p in self.pipes:
            if not p.poll(wait):
                raise TimeoutError(f"client process did not answer {cmd!r} within {wait}s")
            out.append(p.recv())
        return out

    def close(self) -> None:
        try:
            self.ask("stop", 15)
        except (TimeoutError, OSError, EOFError):
            pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


def run(mode: str, n: int, drawers: int, rate: float, seconds: float, procs: int, url_db: str | None,
        work: Path, stroke_seconds: float = STROKE_SECONDS) -> dict:
    if mode.endswith("bare"):
        world, document_id = {"meeting_id": 1, "delegates": [None] * n}, 0
        server = Server("bench.bare_server:app", {}, work / "bare.log")
    else:
        url_db = url_db or f"sqlite:///{work / 'bench.sqlite3'}"
        world = make_world(url_db, n)
        storage = work / "storage"
        document_id = add_document(url_db, world["meeting_id"], storage)
        env = {"DATABASE_URL": url_db, "INSTANCE_PATH": str(work / "instance"), "STORAGE_PATH": str(storage),
               "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
        server = Server("wsgi:app", env, work / "live.log")
    crowd = None
    try:
        crowd = Crowd(server.url, world["meeting_id"], document_id, world["delegates"], procs, drawers, rate,
                      stroke_seconds)
        join_errors = sum(r[1] for r in crowd.ask(None))
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        crowd.ask(("draw", seconds), wait=seconds + DEADLINE)
        wall = time.monotonic() - t0
        cpu = server.cpu_seconds() - cpu0
        time.sleep(1.0)  # the last broadcasts in flight (bounded; not a measurement)
        reports = crowd.ask("report")
        rss, peak = server.rss_mb()
        lat = [x for r in reports for x in r[1]]
        done = [x for r in reports for x in r[5]]
        total = {k: sum(r[2][k] for r in reports) for k in reports[0][2]}
        due = total["progress_sent"] * (n - 1)  # every message to every client but its sender
        cpu_pct = 100 * cpu / wall
        delivered = len(lat) / due if due else None
        offered = drawers * rate * seconds  # what the drawers send in the phase when they keep up
        why = [w for w, hit in (("server CPU ≥ 90 % of its core", cpu_pct >= 90),
                                ("< 95 % of deliveries made", delivered is not None and delivered < 0.95),
                                ("drawers sent < 90 % of the offered rate (clients or acks behind)",
                                 total["progress_sent"] < 0.9 * offered)) if hit]
        return {"mode": mode, "clients": n, "drawers": drawers, "offered_updates_per_s": drawers * rate,
                "progress_sent": total["progress_sent"],
                "achieved_updates_per_s": round(total["progress_sent"] / wall, 1),
                "strokes_stored": total["strokes_acked"], "updates_refused": total["strokes_refused"],
                "join_errors": join_errors, "errors_sample": [e for r in reports for e in r[3]][:3],
                "deliveries": len(lat), "deliveries_due": due,
                "delivered_ratio": None if delivered is None else round(delivered, 3),
                "deliveries_per_s": round(len(lat) / wall), "messages_per_s": round(total["messages"] / wall),
                "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
                "max_ms": round(max(lat), 1) if lat else None,
                "finished_p50_ms": round(pct(done, 50), 1) if done else None,
                "finished_p99_ms": round(pct(done, 99), 1) if done else None,
                "seconds": round(wall, 1), "server_cpu_pct": round(cpu_pct, 1),
                "saturated": bool(why), "saturated_because": why,
                "server_rss_mb": round(rss, 1), "server_peak_rss_mb": round(peak, 1),
                "database": url_db.split(":", 1)[0] if url_db else None}
    finally:
        if crowd is not None:
            crowd.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[200], help="one run per value")
    ap.add_argument("--drawers", type=int, help="how many of the clients draw (default: all)")
    ap.add_argument("--rate", type=float, default=10.0, help="progress messages per second per drawer")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of the drawing phase (max 40)")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--stroke-seconds", type=float, default=STROKE_SECONDS,
                    help="how long each stroke is drawn before it is stored")
    ap.add_argument("--crowd", type=int, default=0,
                    help="then run the largest --clients once more with this many drawing at once")
    ap.add_argument("--only", choices=["live", "bare"], help="run one server only (default: live, then bare)")
    ap.add_argument("--database-url", help="PostgreSQL URL of an existing empty database (default: SQLite file)")
    ap.add_argument("--quick", action="store_true", help="100 clients, 5 drawers, 5 s (a smoke run)")
    ap.add_argument("--json", help="also write every result line, as one JSON list, to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.drawers, args.seconds, args.procs = [100], 5, 5.0, 2
    seconds = min(args.seconds, 40.0)
    phases = [(n, min(args.drawers, n) if args.drawers is not None else n, "") for n in args.clients]
    if args.crowd:
        top = max(args.clients)
        phases.append((top, min(args.crowd, top), "crowd_"))
    lines: list[dict] = []
    for n, drawers, phase in phases:
        results = {}
        for kind in ([args.only] if args.only else ["live", "bare"]):
            mode = phase + kind
            with tempfile.TemporaryDirectory(prefix=f"annot-fanout-{mode}-") as tmp:
                results[kind] = run(mode, n, drawers, args.rate, seconds, args.procs, args.database_url, Path(tmp),
                                    args.stroke_seconds)
            print(json.dumps(results[kind]), flush=True)
            lines.append(results[kind])
        if len(results) == 2 and results["bare"]["p99_ms"]:
            live, bare = results["live"], results["bare"]
            ratios = {"clients": n, "phase": phase.rstrip("_") or "fanout",
                      "p99_ratio_live_to_bare": round(live["p99_ms"] / bare["p99_ms"], 2),
                      "delivered_ratio_live_to_bare": round(
                          (live["delivered_ratio"] or 0) / max(bare["delivered_ratio"] or 0, 0.001), 2)}
            print(json.dumps(ratios), flush=True)
            lines.append(ratios)
        write_json(args.json, lines)


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()
