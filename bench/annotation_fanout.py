"""Shared-annotation fan-out: N delegates in one meeting, each drawing a shared ink stroke.

    .venv/bin/python -m bench.annotation_fanout --clients 200 --rate 10 --seconds 15

Starts the real server (gunicorn + gevent worker, SQLite by default or
--database-url), creates a meeting with N delegates and one published
document, connects N python-socketio clients from --procs client processes,
joins them to the meeting, then lets every one of them (or --drawers of them)
draw: one shared ("meeting") ink annotation each, extended by an
``annotation.update`` --rate times a second (closed loop: a client sends its
next point after its previous update was acknowledged, never more often than
--rate). Every update goes through the full path (permission checks, version
check, audit entry, event log seq, broadcast after commit) and reaches every
client in the meeting as an ``event``.

Reported: achieved updates per second against the offered rate, fan-out
latency from the drawer's emit to each other client's receipt (p50/p99/max,
one machine clock: the send time travels in the annotation's text), the
server worker's CPU and RSS. Bounded: the drawing phase lasts --seconds
(≤ 60 in total with start-up), every wait has a deadline, the server and the
client processes are stopped at the end. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402
from bench.fanout import DEADLINE, Server, make_world, pct  # noqa: E402

POINTS_KEPT = 10  # the last ~100 ms of pen points (a live delta), like a tablet sampling at ~100 Hz


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
                rate: float) -> None:
    asyncio.run(_clients(conn, url, meeting_id, document_id, tokens, drawers, rate))


async def _clients(conn, url, meeting_id, document_id, tokens, drawers, rate):
    bare = tokens[0] is None  # bench/bare_server.py: no auth, no database, same fan-out
    import socketio

    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    own: set[str] = set()
    errors: list[str] = []
    counts = {"updates_acked": 0, "updates_refused": 0}
    clients = [socketio.AsyncClient(reconnection=False) for _ in tokens]

    for sio in clients:
        @sio.on("event")
        async def _on(env):
            if bare:
                latencies.append((time.time() - env["data"]["page"]) * 1000)
                return
            ann = env.get("data", {}).get("annotation") or {}
            if env.get("type") == "annotation.updated" and ann.get("id") not in own and ann.get("text"):
                latencies.append((time.time() - float(ann["text"])) * 1000)

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

    async def draw_bare(sio, until: float):
        while time.monotonic() < until:
            tick = time.monotonic()
            ack = await sio.call("turn", {"page": time.time()}, timeout=60)
            counts["updates_acked" if ack.get("ok") else "updates_refused"] += 1
            await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))

    async def draw(sio, until: float):
        ann_id = str(uuid.uuid4())
        own.add(ann_id)
        points = [[100.0, 400.0, 0.5]]
        ack = await sio.call("annotation.create", {
            "id": ann_id, "document_id": document_id, "kind": "ink", "page": 1, "visibility": "meeting",
            "color": "#d01010", "geometry": {"strokes": [points], "width": 2}, "text": f"{time.time():.6f}"},
            timeout=60)
        if not ack.get("ok"):
            errors.append(f"create: {ack}")
            return
        version, k = ack["annotation"]["version"], 0
        while time.monotonic() < until:
            tick = time.monotonic()
            k += 1
            points = (points + [[100.0 + k % 300, 400.0 + (k * 7) % 200, 0.6]])[-POINTS_KEPT:]
            ack = await sio.call("annotation.update", {
                "id": ann_id, "version": version, "geometry": {"strokes": [points], "width": 2},
                "text": f"{time.time():.6f}"}, timeout=60)
            if ack.get("ok"):
                version = ack["annotation"]["version"]
                counts["updates_acked"] += 1
            else:
                counts["updates_refused"] += 1
                errors.append(f"update: {ack.get('error')}")
            await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))

    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if isinstance(cmd, tuple) and cmd[0] == "draw":
            until = time.monotonic() + cmd[1]
            await asyncio.gather(*((draw_bare if bare else draw)(sio, until) for sio in clients[:drawers]))
            conn.send(("drawn",))
        elif cmd == "report":
            conn.send(("report", latencies, counts, errors[:5], len(errors)))
        elif cmd == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


class Crowd:
    def __init__(self, url, meeting_id, document_id, tokens, procs, drawers, rate):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(procs):
            mine = tokens[k::procs]
            # Spread the drawers evenly over the processes.
            share = drawers // procs + (1 if k < drawers % procs else 0)
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, daemon=True,
                            args=(child, url, meeting_id, document_id, mine, min(share, len(mine)), rate))
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
        work: Path) -> dict:
    if mode == "bare":
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
        crowd = Crowd(server.url, world["meeting_id"], document_id, world["delegates"], procs, drawers, rate)
        join_errors = sum(r[1] for r in crowd.ask(None))
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        crowd.ask(("draw", seconds), wait=seconds + DEADLINE)
        wall = time.monotonic() - t0
        cpu = server.cpu_seconds() - cpu0
        time.sleep(1.0)  # the last broadcasts in flight (bounded; not a measurement)
        reports = crowd.ask("report")
        rss, peak = server.rss_mb()
        lat = [x for r in reports for x in r[1]]
        acked = sum(r[2]["updates_acked"] for r in reports)
        refused = sum(r[2]["updates_refused"] for r in reports)
        return {"mode": mode, "clients": n, "drawers": drawers, "offered_updates_per_s": drawers * rate,
                "achieved_updates_per_s": round(acked / wall, 1), "updates_refused": refused,
                "join_errors": join_errors, "errors_sample": [e for r in reports for e in r[3]][:3],
                "deliveries": len(lat), "deliveries_per_s": round(len(lat) / wall),
                "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
                "max_ms": round(max(lat), 1) if lat else None, "seconds": round(wall, 1),
                "server_cpu_pct": round(100 * cpu / wall, 1), "server_rss_mb": round(rss, 1),
                "server_peak_rss_mb": round(peak, 1),
                "database": url_db.split(":", 1)[0] if url_db else None}
    finally:
        if crowd is not None:
            crowd.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[200], help="one run per value")
    ap.add_argument("--drawers", type=int, help="how many of the clients draw (default: all)")
    ap.add_argument("--rate", type=float, default=10.0, help="stroke updates per second per drawer")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of the drawing phase (max 40)")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--only", choices=["live", "bare"], help="run one server only (default: live, then bare)")
    ap.add_argument("--database-url", help="PostgreSQL URL of an existing empty database (default: SQLite file)")
    ap.add_argument("--quick", action="store_true", help="100 clients, 5 drawers, 5 s (a smoke run)")
    ap.add_argument("--json", help="also write every result line, as one JSON list, to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.drawers, args.seconds, args.procs = [100], 5, 5.0, 2
    seconds = min(args.seconds, 40.0)
    lines: list[dict] = []
    for n in args.clients:
        drawers = min(args.drawers, n) if args.drawers is not None else n
        results = {}
        for mode in ([args.only] if args.only else ["live", "bare"]):
            with tempfile.TemporaryDirectory(prefix=f"annot-fanout-{mode}-") as tmp:
                results[mode] = run(mode, n, drawers, args.rate, seconds, args.procs, args.database_url, Path(tmp))
            print(json.dumps(results[mode]), flush=True)
            lines.append(results[mode])
        if len(results) == 2 and results["bare"]["p99_ms"]:
            live, bare = results["live"], results["bare"]
            ratios = {"clients": n, "p99_ratio_live_to_bare": round(live["p99_ms"] / bare["p99_ms"], 2),
                      "achieved_rate_ratio_live_to_bare": round(
                          live["achieved_updates_per_s"] / max(bare["achieved_updates_per_s"], 0.1), 2)}
            print(json.dumps(ratios), flush=True)
            lines.append(ratios)
        write_json(args.json, lines)


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()
