"""Document delivery: N tablets download the same agenda PDF at once, real server vs nginx.

    .venv/bin/python -m bench.delivery --clients 200 --mb 20 --repeat 3 [--json FILE]

Builds one ~--mb MB PDF (random-noise images, nothing compresses), stores it
as a published document of a meeting with N delegates through the documents
domain's intake, and serves it two ways in the same run:

- the real server (gunicorn -k gevent -w 1 wsgi:app, SQLite in a temp dir):
  ``GET /api/v1/documents/<id>/file`` with each delegate's bearer token (the
  whole path: token, permission, read receipt, send_file with ETag);
- behind nginx: a second real server with ``X_ACCEL_REDIRECT_PREFIX`` behind our
  own nginx configured as docs/deployment.md says (tests/nginx_front.py): the app
  authorizes and answers 304s, nginx sends the bytes (``--no-accel``: skip);
- the baseline: nginx (Debian's nginx-light, our own process on a free port,
  temp config: one worker, sendfile on, access_log off) serving the same blob.

N client threads (in --procs processes, http.client, connected beforehand)
send their GET at the same instant and read the whole body; throughput =
all bytes / (last byte - start). Then a second pass with ``If-None-Match``
(the ETag each client got): the 304 rate (must be 100 %) and its latency.
Passes alternate (app, behind nginx, nginx, app, ...); the medians are reported.
Bounded: every wait has a deadline; servers and client processes are
stopped at the end. Not a test.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402
from bench.fanout import DEADLINE, Server, free_port, make_world, pct  # noqa: E402

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
CHUNK = 256 * 1024


# ----------------------------------------------------------------------------- client processes

def _fetch(host: str, port: int, path: str, headers: dict, start: float, out: list, slot: int,
           ready: threading.Barrier) -> None:
    """One tablet: connect, wait for the common start, GET, read everything; record (status, bytes, t0, t1, etag)."""
    buf = bytearray(CHUNK)
    try:
        conn = http.client.HTTPConnection(host, port, timeout=DEADLINE)
        conn.connect()
        ready.wait(DEADLINE)
        time.sleep(max(0.0, start - time.time()))
        t0 = time.time()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        got = 0
        while n := resp.readinto(buf):
            got += n
        t1 = time.time()
        out[slot] = (resp.status, got, t0, t1, resp.getheader("ETag"), int(resp.getheader("Content-Length") or -1))
        conn.close()
    except Exception as exc:  # a failed download is a result to report
        out[slot] = ("error", 0, 0.0, 0.0, None, repr(exc)[:200])


def client_main(conn, host: str, port: int, path: str) -> None:
    """One client process: per pass, one thread per job (its headers), started together at the parent's time."""
    conn.send(("ready",))
    while True:
        cmd = conn.recv()
        if cmd[0] == "stop":
            return
        _, start, headers_list = cmd
        out: list = [None] * len(headers_list)
        ready = threading.Barrier(len(headers_list))
        threads = [threading.Thread(target=_fetch, args=(host, port, path, h, start, out, k, ready), daemon=True)
                   for k, h in enumerate(headers_list)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        conn.send(("done", out))


class Crowd:
    """``procs`` client processes, each with its share of the tablets, all aimed at one URL path."""

    def __init__(self, port: int, path: str, n: int, procs: int):
        ctx = mp.get_context("spawn")
        self.n, self.pipes, self.procs = n, [], []
        for _ in range(min(procs, n)):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, args=(child, "127.0.0.1", port, path), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
        for p in self.pipes:
            if not p.poll(DEADLINE):
                raise TimeoutError("a client process did not start")
            p.recv()

    def burst(self, headers: list[dict]) -> list[tuple]:
        """Every tablet sends its request (``headers[i]``) at the same moment; their results in tablet order."""
        start = time.time() + 1.0  # time for every process to set up its threads and connections
        k = len(self.pipes)
        for j, p in enumerate(self.pipes):
            p.send(("go", start, headers[j::k]))
        shares = []
        for p in self.pipes:
            if not p.poll(2 * DEADLINE):
                raise TimeoutError("a client process did not finish its downloads in time")
            shares.append(p.recv()[1])
        out: list = [None] * len(headers)
        for j, share in enumerate(shares):
            out[j::k] = share
        return out

    def close(self) -> None:
        for p in self.pipes:
            try:
                p.send(("stop",))
            except OSError:
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


def summarize(results: list, size: int, expect: int) -> dict:
    """Throughput and per-request latency of one burst; ``expect`` is the status every answer should have."""
    good = [r for r in results if r and r[0] == expect and (expect != 200 or r[1] == size)]
    starts = [r[2] for r in results if r and r[0] != "error"]
    ends = [r[3] for r in good]
    lat = [(r[3] - r[2]) * 1000 for r in good]
    wall = (max(ends) - min(starts)) if good else float("nan")
    out = {"requests": len(results), "ok": len(good),
           "failures": [str(r[5] if r and r[0] == "error" else (r[0] if r else None)) for r in results
                        if r not in good][:3],
           "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
           "max_ms": round(max(lat), 1) if lat else None, "wall_s": round(wall, 3)}
    if expect == 200:
        out["mb_per_s"] = round(sum(r[1] for r in good) / 1e6 / wall, 1) if good else 0.0
    return out


# ----------------------------------------------------------------------------- the servers

NGINX_CONF = """\
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    types {{ application/pdf pdf; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ add_header Cache-Control "private, no-cache"; }}
    }}
}}
"""


class Nginx:
    """Our own nginx master (not the system's), in the foreground, serving ``root`` on a free port."""

    def __init__(self, root: Path, work: Path):
        self.port = free_port()
        conf = work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=work, port=self.port, root=root))
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(work), "-g", "daemon off;"],
                                     stdout=(work / "nginx.out").open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start: {(work / 'nginx.out').read_text()[-500:]}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("HEAD", "/")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)  # graceful: the master stops its worker
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def add_big_document(url: str, meeting_id: int, storage: Path, pdf: Path) -> tuple[int, Path]:
    """The PDF as a published document of the meeting (the documents domain's own intake); (id, blob path)."""
    from sqlalchemy.orm import Session

    from meetings.bodies.models import Meeting
    from meetings.core.db import make_engine
    from meetings.documents import storage as blobs
    from meetings.documents.service import add_document
    from meetings.platform.realtime import eventlog

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            doc = add_document(s, s.get(Meeting, meeting_id), pdf, title="Tài liệu kỳ họp (thử tải)",
                               filename="tai-lieu.pdf", uploaded_by_id=None, published=True, storage_path=storage)
            s.info.pop(eventlog._PENDING, None)  # no socket server in this process to announce it
            s.commit()
            return doc.id, blobs.blob_path(storage, doc.sha256)
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------- the run

def one_server(crowd: Crowd, tokens: list[str | None], size: int) -> tuple[dict, dict]:
    """A full-download burst, then an If-None-Match burst with the ETag each tablet got."""
    auth = [{"Authorization": f"Bearer {t}"} if t else {} for t in tokens]
    full = crowd.burst(auth)
    cond = [{**h, "If-None-Match": r[4]} if r and r[4] else h for h, r in zip(auth, full, strict=True)]
    again = crowd.burst(cond)
    first, second = summarize(full, size, 200), summarize(again, size, 304)
    second["rate_304"] = round(second["ok"] / max(1, second["requests"]), 4)
    return first, second


def run(n: int, mb: float, repeat: int, procs: int, work: Path, accel: bool = True) -> dict:
    from tests import pdfs

    pages = max(1, round(mb * 1e6 / 98_000))  # a 180 px noise page is ≈ 98 kB
    pdf = work / "agenda.pdf"
    pdf.write_bytes(pdfs.noise_pdf(pages))
    url_db = f"sqlite:///{work / 'bench.sqlite3'}"
    world = make_world(url_db, n)
    storage = work / "storage"
    doc_id, blob = add_big_document(url_db, world["meeting_id"], storage, pdf)
    size = blob.stat().st_size
    site = work / "site"
    site.mkdir()
    os.link(blob, site / "agenda.pdf")  # nginx serves the very same bytes (same inode)
    # nginx's worker runs as an unprivileged user when we are root: let it read the file.
    for path in (work, site):
        path.chmod(0o755)
    blob.chmod(0o644)
    env = {"DATABASE_URL": url_db, "INSTANCE_PATH": str(work / "instance"), "STORAGE_PATH": str(storage),
           "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "ACCESS_LOG": "/dev/null"}
    app = Server("wsgi:app", env, work / "live.log")
    nginx = behind = front = None
    crowds: list[Crowd] = []
    passes: dict[str, list] = {"app": [], "nginx": [], "accel": []}
    try:
        nginx = Nginx(site, work)
        crowds = [Crowd(app.port, f"/api/v1/documents/{doc_id}/file", n, procs),
                  Crowd(nginx.port, "/agenda.pdf", n, procs)]
        if accel:
            from tests.nginx_front import ACCEL_PREFIX, NginxFront

            behind = Server("wsgi:app", {**env, "X_ACCEL_REDIRECT_PREFIX": ACCEL_PREFIX}, work / "accel.log")
            front = NginxFront(work / "front", app_ports=[behind.port], storage=storage)
            crowds.append(Crowd(front.port, f"/api/v1/documents/{doc_id}/file", n, procs))
        cpu0 = app.cpu_seconds()
        for _ in range(repeat):
            passes["app"].append(one_server(crowds[0], world["delegates"], size))
            if accel:
                passes["accel"].append(one_server(crowds[2], world["delegates"], size))
            passes["nginx"].append(one_server(crowds[1], [None] * n, size))
        app_cpu = app.cpu_seconds() - cpu0
        rss, peak = app.rss_mb()
    finally:
        for c in crowds:
            c.close()
        for proc in (front, nginx, behind):
            if proc is not None:
                proc.stop()
        app.stop()

    def median_pass(runs: list) -> dict:
        """The pass with the median full-download throughput, with its revalidation pass."""
        ranked = sorted(runs, key=lambda r: r[0].get("mb_per_s", 0))
        full, reval = ranked[len(ranked) // 2]
        return {**full, "all_mb_per_s": [r[0].get("mb_per_s") for r in runs], "revalidate": reval}

    live, base = median_pass(passes["app"]), median_pass(passes["nginx"])
    out = {"scenario": "delivery", "clients": n, "file_bytes": size, "pages": pages, "repeat": repeat,
           "app": {**live, "server_cpu_s_per_pass": round(app_cpu / repeat, 2),
                   "server_rss_mb": round(rss, 1), "server_peak_rss_mb": round(peak, 1)},
           "nginx": base,
           "throughput_ratio": round(live["mb_per_s"] / base["mb_per_s"], 3) if base.get("mb_per_s") else None,
           "goal_ratio": 0.70,
           "revalidate_p50_ratio": _ratio(live["revalidate"]["p50_ms"], base["revalidate"]["p50_ms"]),
           "goal_revalidate_ratio": 3.0}
    if passes["accel"]:
        behind_nginx = median_pass(passes["accel"])
        out.update({"behind_nginx": behind_nginx, "goal_ratio_behind_nginx": 0.90,
                    "throughput_ratio_behind_nginx": _ratio(behind_nginx["mb_per_s"], base.get("mb_per_s")),
                    "revalidate_p50_ratio_behind_nginx": _ratio(behind_nginx["revalidate"]["p50_ms"],
                                                                base["revalidate"]["p50_ms"])})
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--mb", type=float, default=20.0, help="size of the agenda PDF")
    ap.add_argument("--repeat", type=int, default=3, help="passes per server (alternating); medians reported")
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--no-accel", action="store_true", help="skip the X-Accel-Redirect pass behind nginx")
    ap.add_argument("--quick", action="store_true", help="20 clients, one pass (a smoke run)")
    ap.add_argument("--json", help="also write the result to this file")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.repeat, args.procs = min(args.clients, 20), 1, min(args.procs, 2)
    work = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    try:
        result = run(args.clients, args.mb, args.repeat, args.procs, work, accel=not args.no_accel)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result), flush=True)
    write_json(args.json, result)


if __name__ == "__main__":
    main()
