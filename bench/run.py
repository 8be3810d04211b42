"""`make bench`: every benchmark in bench/, one after the other, baselines in the same run; writes bench/README.md.

    .venv/bin/python bench/run.py            # the full run (≈ 10–15 min on the 2-core machine)
    .venv/bin/python bench/run.py --quick    # small N, short phases: a smoke run in under 2 min
    .venv/bin/python bench/run.py --only delivery minutes   # some scenarios (README.md still rewritten)
    .venv/bin/python bench/run.py --from-json bench/results.json   # only rewrite README.md and the plot

Each scenario is one script (fan-out, shared-annotation fan-out, vote storm on SQLite and on PostgreSQL,
reconnect storm, document delivery against nginx, upload validation, minutes) started as a child process
with ``--json FILE``, never two at once (they would disturb each other), each under a deadline: on
overrun the script gets SIGINT (its ``finally`` blocks stop its servers), then its whole process tree
SIGKILL. The machine's load average is read before each scenario. Then bench/README.md is written afresh
(the table: figure, measured, goal, baseline, ratio, met?), bench/results.json keeps the raw figures and
bench/fanout.png plots p99 against the number of delegates. The method is in bench/METHOD.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scaleout_report  # noqa: E402
from bench.common import load_average, write_json  # noqa: E402
from bench.plot import line_chart  # noqa: E402

BENCH = ROOT / "bench"


@dataclass
class Scenario:
    """One script run: its module, full and quick arguments, and a deadline for each."""

    name: str
    title: str
    module: str
    full: list[str]
    quick: list[str]
    timeout: float  # full run; the quick run gets a third of it (at least 60 s)
    outcome: dict = field(default_factory=dict)
    # A variant of a script that another scenario already smoke-tests (PostgreSQL, other costs): full runs only.
    variant: bool = False


SCENARIOS = [
    Scenario("fanout", "Page-turn fan-out, live vs bare Flask-SocketIO", "bench.fanout",
             ["--clients", "250", "500", "1000", "--turns", "50", "--rate", "10", "--procs", "4"],
             ["--clients", "100", "--turns", "20", "--rate", "10", "--procs", "1"], 480),
    Scenario("annotation_fanout", "Shared-annotation fan-out, live vs bare", "bench.annotation_fanout",
             ["--clients", "250", "500", "1000", "--drawers", "5", "--rate", "10", "--seconds", "10",
              "--procs", "4", "--crowd", "50"],
             ["--clients", "100", "--drawers", "5", "--rate", "10", "--seconds", "2", "--procs", "1"], 540),
    Scenario("vote_storm_sqlite", "Vote storm on SQLite", "bench.vote_storm",
             ["--clients", "1000", "--duplicates", "250", "--procs", "4"],
             ["--clients", "100", "--duplicates", "20", "--procs", "1"], 240),
    Scenario("vote_storm_postgresql", "Vote storm on PostgreSQL", "bench.vote_storm",
             ["--clients", "1000", "--duplicates", "250", "--procs", "4", "--postgresql"],
             ["--clients", "100", "--duplicates", "20", "--procs", "1", "--postgresql"], 300, variant=True),
    Scenario("secret_storm_sqlite", "Secret-ballot storm on SQLite (encrypted ballots, count, verifier)",
             "bench.secret_storm", ["--clients", "1000", "--duplicates", "250", "--procs", "4", "--chromium", "20"],
             ["--clients", "100", "--duplicates", "20", "--procs", "1", "--chromium", "5"], 360),
    Scenario("secret_storm_postgresql", "Secret-ballot storm on PostgreSQL", "bench.secret_storm",
             ["--clients", "1000", "--duplicates", "250", "--procs", "4", "--chromium", "0", "--postgresql"],
             ["--clients", "100", "--duplicates", "20", "--procs", "1", "--chromium", "0", "--postgresql"], 420,
             variant=True),
    Scenario("secret_board", "Secret-ballot crypto alone: one ballot, the verifier on 1,000", "bench.secret_board",
             ["--ballots", "1000"], ["--ballots", "100"], 180),
    Scenario("outbox_send", "1,000 invitations through the job consumer to a real SMTP server", "bench.outbox_send",
             ["--count", "1000", "--workers", "4"], ["--count", "100", "--workers", "4"], 180),
    Scenario("reconnect_storm", "Reconnect storm on SQLite", "bench.reconnect_storm",
             ["--clients", "1000", "--missed", "20", "--procs", "4"],
             ["--clients", "100", "--missed", "10", "--procs", "1"], 240),
    Scenario("reconnect_storm_postgresql", "Reconnect storm on PostgreSQL", "bench.reconnect_storm",
             ["--clients", "1000", "--missed", "20", "--procs", "4", "--postgresql"],
             ["--clients", "100", "--missed", "10", "--procs", "1", "--postgresql"], 300, variant=True),
    Scenario("delivery", "Document delivery, live vs nginx", "bench.delivery",
             ["--clients", "200", "--mb", "20", "--repeat", "3", "--procs", "4"],
             ["--clients", "20", "--mb", "10", "--repeat", "1", "--procs", "1"], 300),
    Scenario("login_storm", "Login storm: 1,000 logins (token, form) during page turns, argon2id 19 MiB, t=2, p=1",
             "bench.login_storm", ["--logins", "1000", "--clients", "250", "--procs", "4"],
             ["--logins", "50", "--clients", "50", "--procs", "1"], 360),
    Scenario("login_storm_rfc9106", "Login storm with argon2-cffi's own costs (RFC 9106: 64 MiB, t=3, p=4)",
             "bench.login_storm", ["--logins", "300", "--clients", "250", "--procs", "4", "--rfc9106"],
             ["--logins", "20", "--clients", "50", "--procs", "1", "--rfc9106"], 600, variant=True),
    Scenario("upload_validation", "Upload validation", "bench.upload_validation",
             ["--pages", "500", "--runs", "3"], ["--pages", "100", "--runs", "1"], 240),
    Scenario("minutes", "Minutes composition and signing", "bench.minutes",
             ["--attendees", "500", "--items", "60", "--polls", "40", "--repeat", "3"],
             ["--attendees", "100", "--items", "15", "--polls", "10", "--repeat", "1"], 240),
    Scenario("ocr_pages", "OCR of scanned Vietnamese pages (200 dpi, vie+eng)", "bench.ocr_pages",
             ["--pages", "1", "5", "--jobs", "1", "2"], ["--pages", "1", "--jobs", "1"], 240),
    Scenario("convert_pages", "Office documents to PDF by LibreOffice in its sandbox", "bench.convert_pages",
             ["--runs", "3"], ["--quick"], 300),
    Scenario("bulk_import_sqlite", "Bulk import and group roll call on SQLite", "bench.bulk_import",
             ["--rows", "1000", "--single", "50"], ["--rows", "200", "--single", "10"], 240),
    Scenario("bulk_import_postgresql", "Bulk import and group roll call on PostgreSQL", "bench.bulk_import",
             ["--rows", "1000", "--single", "50", "--postgresql"], ["--rows", "200", "--single", "10", "--postgresql"],
             300, variant=True),
    Scenario("scaleout", "Scale-out: 1, 2, 4 processes behind nginx, PostgreSQL, Redis queue", "bench.scaleout",
             ["--processes", "1", "2", "4", "--clients", "250", "500", "1000", "2000", "--meetings", "4",
              "--turns", "30", "--voters", "500", "--procs", "4"],
             ["--processes", "2", "--clients", "40", "--meetings", "2", "--turns", "10", "--voters", "20",
              "--procs", "1"], 1500),
]


# ----------------------------------------------------------------------------- running one script

def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc's parent links), deepest last; servers started in
    their own sessions are included, so nothing a script started outlives a killed script."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent_of[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parent_of.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _kill(pids: list[int], sig: int) -> None:
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def run_script(sc: Scenario, quick: bool, work: Path) -> dict:
    """Run one scenario's script under its deadline; its JSON, exit status, wall time and log tail."""
    out = work / f"{sc.name}.json"
    log = work / f"{sc.name}.log"
    args = sc.quick if quick else sc.full
    cmd = [sys.executable, "-m", sc.module, *args, "--json", str(out)]
    deadline = max(60.0, sc.timeout / 3) if quick else sc.timeout
    load = load_average()
    started, t0 = datetime.now().astimezone(), time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
        timed_out = False
        try:
            rc = proc.wait(deadline)
        except subprocess.TimeoutExpired:
            timed_out = True
            tree = descendants(proc.pid)
            os.killpg(proc.pid, signal.SIGINT)  # KeyboardInterrupt: the script's finally blocks stop its servers
            try:
                rc = proc.wait(30)
            except subprocess.TimeoutExpired:
                _kill([proc.pid], signal.SIGKILL)
                rc = proc.wait(10)
            _kill([p for p in tree + descendants(proc.pid) if Path(f"/proc/{p}").exists()], signal.SIGKILL)
    seconds = time.monotonic() - t0
    try:
        data = json.loads(out.read_text("utf-8")) if out.exists() else None
    except ValueError:
        data = None
    tail = log.read_text("utf-8", errors="replace").strip().splitlines()[-8:]
    return {"name": sc.name, "title": sc.title, "command": " ".join(["python", "-m", sc.module, *args]),
            "rc": rc, "timed_out": timed_out, "deadline_s": deadline, "seconds": round(seconds, 1),
            "started": started.isoformat(timespec="seconds"), "load_average": load, "data": data,
            "log_tail": tail if (rc != 0 or data is None) else []}


# ----------------------------------------------------------------------------- the report

MET = {True: "✅ yes", False: "❌ **no**", None: "—"}


def _num(x: object, unit: str = "", digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    return f"{x:,.{digits}f}{unit}" if isinstance(x, float) else f"{x:,}{unit}"


def _ratio(a: float | None, b: float | None) -> float | None:
    try:
        return round(a / b, 2) if a is not None and b else None
    except TypeError:
        return None


class Table:
    """Rows of figure | measured | goal | baseline | ratio | met? | load."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.misses: list[str] = []

    def add(self, figure: str, measured: str, goal: str = "reported", baseline: str = "—",
            ratio: float | None = None, met: bool | None = None, load: float | None = None) -> None:
        self.rows.append((figure, measured, goal, baseline, "—" if ratio is None else f"{ratio:.2f}×", MET[met],
                          "" if load is None else f"{load:.1f}"))
        if met is False:
            self.misses.append(figure)

    def markdown(self) -> str:
        head = ("figure", "measured", "goal", "baseline (same run)", "ratio", "met?", "load¹")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


def _fanout_rows(t: Table, lines: list[dict], what: str, load: float, extra: str = "", goal: float = 1.25) -> None:
    """Per N: live p99 against bare p99 (≤ ``goal``×, and ≤ 100 ms where the bare server manages it); RSS at
    top N. Issue 16's goals: 1.15× for page turns, 1.25× for shared annotations."""
    live = {r["clients"]: r for r in lines if r.get("mode") == "live"}
    bare = {r["clients"]: r for r in lines if r.get("mode") == "bare"}
    for n in sorted(live):
        lv, br = live[n], bare.get(n, {})
        ratio = _ratio(lv.get("p99_ms"), br.get("p99_ms"))
        cap = br.get("p99_ms") is not None and br["p99_ms"] <= 100
        got = lv.get("deliveries")
        want = lv.get("expected")
        complete = want is None or got == want
        measured = f"{_num(lv.get('p99_ms'), ' ms')} (p50 {_num(lv.get('p50_ms'), ' ms')}"
        measured += f"; {got:,}/{want:,} delivered)" if want else f"; {_num(lv.get('deliveries_per_s'))} deliveries/s)"
        if lv.get("join_errors"):
            measured += f"; {lv['join_errors']} join errors"
        met = None if ratio is None else (ratio <= goal and (not cap or lv["p99_ms"] <= 100) and complete
                                          and not lv.get("join_errors"))
        t.add(f"{what} p99, {n:,} delegates{extra}", measured,
              f"≤ {goal:.2f}× bare p99" + (" and ≤ 100 ms" if cap else "")
              + ("" if want is None else ", all delivered"),
              f"{_num(br.get('p99_ms'), ' ms')} (p50 {_num(br.get('p50_ms'), ' ms')})" if br else "missing",
              ratio, met, load)
    if live:
        top = max(live)
        lv, br = live[top], bare.get(top, {})
        t.add(f"{what}: server peak RSS at {top:,} delegates", _num(lv.get("server_peak_rss_mb"), " MB"),
              "≤ 300 MB" if top >= 1000 else "≤ 300 MB at 1,000", _num(br.get("server_peak_rss_mb"), " MB"),
              _ratio(lv.get("server_peak_rss_mb"), br.get("server_peak_rss_mb")),
              lv.get("server_peak_rss_mb", 1e9) <= 300 if top >= 1000 else None, load)


def _vote_rows(t: Table, d: dict, load: float) -> None:
    db = "SQLite" if d["database"] == "sqlite" else "PostgreSQL"
    n = d["clients"]
    refused = ", ".join(f"{v} {k}" for k, v in sorted(d.get("refused", {}).items())) or "none"
    exact = d["ballots_stored"] == n and d["tally_correct"] and d["ballots_acked"] == n
    t.add(f"vote storm on {db}: {n:,} ballots + {d['duplicates_sent']} duplicates counted exactly once",
          f"{d['ballots_stored']:,} stored, {d['ballots_acked']:,} acknowledged, refused: {refused}; tally "
          + ("exact" if d["tally_correct"] else "**wrong**"), f"exactly {n:,}, tally exact", met=exact, load=load)
    res = d["result_after_last_ballot_stored_ms"]
    everyone = d["clients_result_correct"] == n
    t.add(f"vote storm on {db}: final result on every tablet after the last ballot",
          f"max {_num(res.get('max'), ' ms')} (p99 {_num(res.get('p99'), ' ms')}); "
          f"{d['clients_result_correct']:,}/{n:,} tablets right", "≤ 500 ms, every tablet",
          met=res.get("max") is not None and res["max"] <= 500 and everyone, load=load)
    t.add(f"vote storm on {db}: burst of {n + d['duplicates_sent']:,} casts worked through",
          f"{_num(d.get('last_ack_after_first_send_s'), ' s')} (cast within {_num(d.get('casting_window_s'), ' s')}; "
          f"server CPU {_num(d.get('server_cpu_s'), ' s')}, peak RSS {_num(d.get('server_peak_rss_mb'), ' MB')})",
          load=load)
    ack = d.get("cast_to_ack_ms")
    if ack:  # group commit (issue 16): every cast, the refused duplicates too
        t.add(f"vote storm on {db}: cast → acknowledged, {n + d['duplicates_sent']:,} casts at once",
              f"p99 {_num(ack['p99'], ' ms')} (p50 {_num(ack['p50'], ' ms')}, max {_num(ack['max'], ' ms')})",
              "p99 ≤ 1 s", met=ack["p99"] is not None and ack["p99"] <= 1000, load=load)
    hand = d.get("manual_close")
    if hand:
        r = hand["result_after_close_ms"]
        right = hand["clients_result_correct"] == n and hand["ballots_stored"] == n and hand["tally_correct"]
        t.add(f"vote storm on {db}: closed by hand, from the close request to the result on every tablet",
              f"max {_num(r.get('max'), ' ms')} (p99 {_num(r.get('p99'), ' ms')}; the close answered in "
              f"{_num(hand['close_answer_ms'], ' ms')}); {hand['clients_result_correct']:,}/{n:,} tablets right",
              "≤ 500 ms, every tablet", met=r.get("max") is not None and r["max"] <= 500 and right, load=load)


def _secret_rows(t: Table, d: dict, load: float) -> None:
    """The encrypted storm beside the named one of the same run; the count; the verifier; encryption."""
    db = "SQLite" if d["database"] == "sqlite" else "PostgreSQL"
    n, sec, named = d["clients"], d["secret"], d["named"]
    refused = ", ".join(f"{v} {k}" for k, v in sorted(sec.get("refused", {}).items())) or "none"
    exact = (sec["stored_ballots"] == sec["stored_voters"] == sec["acked"] == n
             and sec["acked_codes_on_board_once"] == n and sec["result_correct"])
    t.add(f"secret storm on {db}: {n:,} encrypted ballots + {sec['duplicates_sent']} duplicates counted exactly once",
          f"{sec['stored_ballots']:,} ballots beside {sec['stored_voters']:,} has-voted rows, {sec['acked']:,} "
          f"acknowledged, {sec['acked_codes_on_board_once']:,} codes once on the board, refused: {refused}; count "
          + ("exact" if sec["result_correct"] else "**wrong**"), f"exactly {n:,}, count exact", met=exact, load=load)
    s, b = sec["cast_to_ack_ms"], named["cast_to_ack_ms"]
    t.add(f"secret storm on {db}: cast → acknowledged, {n:,} at once (ballots encrypted beforehand)",
          f"p99 {_num(s['p99'], ' ms')} (p50 {_num(s['p50'], ' ms')}, max {_num(s['max'], ' ms')})", "p99 ≤ 1 s",
          f"named ballots: p99 {_num(b['p99'], ' ms')} (p50 {_num(b['p50'], ' ms')})", _ratio(s["p99"], b["p99"]),
          s["p99"] is not None and s["p99"] <= 1000, load)
    named_burst = (f"named: {_num(named.get('last_ack_after_first_send_s'), ' s')} "
                   f"(CPU {_num(named['server_cpu_ms_per_ballot'], ' ms', 2)} per cast)")
    t.add(f"secret storm on {db}: burst of {n + sec['duplicates_sent']:,} encrypted casts worked through",
          f"{_num(sec.get('last_ack_after_first_send_s'), ' s')} (server CPU "
          f"{_num(sec['server_cpu_ms_per_ballot'], ' ms', 2)} per cast)", baseline=named_burst,
          ratio=_ratio(sec.get("last_ack_after_first_send_s"), named.get("last_ack_after_first_send_s")), load=load)
    r = sec["result_after_kth_partial_ms"]
    everyone = sec["tablets_result_correct"] == n
    t.add(f"secret storm on {db}: from the k-th committee share to the result on every tablet",
          f"max {_num(r.get('max'), ' ms')} (p99 {_num(r.get('p99'), ' ms')}); {sec['tablets_result_correct']:,}/"
          f"{n:,} tablets right", "≤ 5 s, every tablet",
          met=r.get("max") is not None and r["max"] <= 5000 and everyone, load=load)
    hand = named.get("manual_close")
    if hand:
        r = hand["result_after_close_ms"]
        t.add(f"secret storm on {db}: named poll closed by hand, from the close request to the result on every "
              "tablet", f"max {_num(r.get('max'), ' ms')} (p99 {_num(r.get('p99'), ' ms')}; the close answered in "
              f"{_num(hand['close_answer_ms'], ' ms')}); {hand['tablets_result_correct']:,}/{n:,} tablets right",
              "≤ 500 ms, every tablet",
              met=r.get("max") is not None and r["max"] <= 500 and hand["tablets_result_correct"] == n, load=load)
    good = sec["verifier_rc"] == 0 and sec["tampered_refused"]
    t.add(f"stand-alone verifier on the server's {sec['ballots_on_board']:,}-ballot board "
          f"({sec['board_bytes'] / 1e6:.1f} MB)", f"{_num(sec['verifier_s'], ' s', 2)}, "
          + ("OK, a tampered copy refused" if good else "**failed**"), "≤ 10 s",
          met=None if sec["ballots_on_board"] < 1000 else (sec["verifier_s"] <= 10 and good), load=load)
    py = sec["python_encrypt_ms_per_ballot"]
    if d.get("chromium_encrypt_ms_per_ballot"):
        c = d["chromium_encrypt_ms_per_ballot"]
        t.add("encrypting one 3-option ballot in Chromium (the tablet's code)",
              f"{_num(c['p50'], ' ms')} p50, {_num(c['p99'], ' ms')} p99 ({c['ballots']} ballots)",
              baseline=f"Python devices: {_num(py['p50'], ' ms')} p50", ratio=_ratio(c["p50"], py["p50"]), load=load)


def _secret_board_rows(t: Table, d: dict, load: float) -> None:
    n = d["ballots"]
    took = d.get(f"verifier_{n}_s")
    t.add(f"verifier module on a {n:,}-ballot board (no server)", _num(took, " s", 2), "≤ 10 s",
          met=(took <= 10) if n >= 1000 else None, load=load)
    t.add("verifying one 3-option ballot / encrypting one (Python, pysodium)",
          f"{_num(d['verify_ballot_ms'], ' ms', 2)} / {_num(d['encrypt_ballot_ms'], ' ms', 2)}", load=load)


def _outbox_rows(t: Table, d: dict, load: float) -> None:
    exact = d["complete"] and d["doubled"] == 0 and d["delivered"] == d["count"]
    t.add(f"{d['count']:,} invitation e-mails ({d['message_kb']} KB, .ics attached) sent by the consumer "
          f"({d['workers']} threads, {d['queue']} queue) to aiosmtpd",
          f"{_num(d['seconds'], ' s')} ({d['per_second']}/s); queued in one transaction in "
          f"{_num(d['queueing_transaction_s'], ' s', 2)}", "reported; each delivered once",
          met=exact, load=load)


def _reconnect_rows(t: Table, lines: list[dict], load: float) -> None:
    for d in lines:
        clean = not (d["clients_missing_events"] or d["duplicates"] or d["out_of_order"] or d["reconnect_errors"]
                     or d["join_errors"])
        where = "PostgreSQL" if d.get("database") == "postgresql" else "SQLite"
        t.add(f"reconnect storm on {where}: {d['clients']:,} tablets, {d['missed_events']} missed events, "
              "all caught up",
              _num(d["caught_up_seconds"], " s"), "≤ 10 s", met=d["caught_up_seconds"] <= 10 and clean, load=load)
        t.add(f"reconnect storm on {where}: {d['clients']:,} tablets, nothing lost",
              f"{d['clients_missing_events']} missing, {d['duplicates']} doubled, {d['out_of_order']} out of order, "
              f"{d['reconnect_errors']} errors; RSS {_num(d['server_rss_mb'], ' MB')}", "all 0", met=clean, load=load)


def _delivery_rows(t: Table, d: dict, load: float) -> None:
    app, ngx = d["app"], d["nginx"]
    what = f"{d['clients']} tablets downloading a {d['file_bytes'] / 1e6:.0f} MB agenda at once"
    full = app["ok"] == app["requests"]
    ratio = d.get("throughput_ratio")
    t.add(f"{what}: throughput (median of {d['repeat']})",
          f"{_num(app.get('mb_per_s'), ' MB/s')} ({app['ok']}/{app['requests']} complete)", "≥ 0.70× nginx",
          f"nginx {_num(ngx.get('mb_per_s'), ' MB/s')}", ratio, ratio is not None and ratio >= 0.7 and full, load)
    t.add(f"{what}: time per download p50 / p99", f"{_num(app['p50_ms'], ' ms')} / {_num(app['p99_ms'], ' ms')}",
          baseline=f"{_num(ngx['p50_ms'], ' ms')} / {_num(ngx['p99_ms'], ' ms')}",
          ratio=_ratio(app["p99_ms"], ngx["p99_ms"]), load=load)
    ra, rn = app["revalidate"], ngx["revalidate"]
    t.add(f"{what}: revalidation with If-None-Match, 304 rate", f"{100 * ra['rate_304']:.0f} %", "100 %",
          f"nginx {100 * rn['rate_304']:.0f} %", met=ra["rate_304"] == 1.0, load=load)
    r304 = _ratio(ra["p50_ms"], rn["p50_ms"])
    t.add(f"{what}: 304 answer p50 / p99", f"{_num(ra['p50_ms'], ' ms')} / {_num(ra['p99_ms'], ' ms')}",
          "p50 ≤ 3× nginx", f"{_num(rn['p50_ms'], ' ms')} / {_num(rn['p99_ms'], ' ms')}", r304,
          r304 is not None and r304 <= 3.0, load)
    acc = d.get("behind_nginx")
    if acc:  # the app authorizes, nginx sends the bytes (X-Accel-Redirect)
        ratio = d.get("throughput_ratio_behind_nginx")
        t.add(f"{what}, behind nginx (X-Accel-Redirect): throughput",
              f"{_num(acc.get('mb_per_s'), ' MB/s')} ({acc['ok']}/{acc['requests']} complete)", "≥ 0.90× nginx",
              f"nginx {_num(ngx.get('mb_per_s'), ' MB/s')}", ratio,
              ratio is not None and ratio >= 0.9 and acc["ok"] == acc["requests"], load)
        rv = acc["revalidate"]
        r304 = _ratio(rv["p50_ms"], rn["p50_ms"])
        t.add(f"{what}, behind nginx: 304 answer p50 / p99 ({100 * rv['rate_304']:.0f} % 304)",
              f"{_num(rv['p50_ms'], ' ms')} / {_num(rv['p99_ms'], ' ms')}", "p50 ≤ 3× nginx",
              f"{_num(rn['p50_ms'], ' ms')} / {_num(rn['p99_ms'], ' ms')}", r304,
              r304 is not None and r304 <= 3.0 and rv["rate_304"] == 1.0, load)


def _login_rows(t: Table, d: dict, load: float) -> None:
    live, bare = d["live"], d["bare"]
    a = live["argon2"]
    what = (f"{live['logins']:,} logins (half token, half form; argon2id m={a['memory_cost'] // 1024} MiB "
            f"t={a['time_cost']} p={a['parallelism']}) during page turns to {live['clients']} delegates")
    done = live["logins_ok"] == live["logins"]
    t.add(f"{what}: all logged in", f"{_num(live['total_s'], ' s')} ({_num(live['logins_per_s'], '/s')}, "
          f"{live['logins_ok']:,} ok)", "≤ 60 s", met=done and live["total_s"] <= 60, load=load)
    ratio = d.get("p99_ratio")
    t.add(f"{what}: page-turn p50 / p99 during the storm",
          f"{_num(live['turn_p50_ms'], ' ms')} / {_num(live['turn_p99_ms'], ' ms')}", "p99 ≤ 1.25× bare",
          f"bare {_num(bare.get('p50_ms'), ' ms')} / {_num(bare.get('p99_ms'), ' ms')}", ratio,
          ratio is not None and ratio <= 1.25 and live["deliveries"] == live["expected"], load)
    t.add(f"{what}: /healthz p50 / max during the storm",
          f"{_num(live['healthz_p50_ms'], ' ms')} / {_num(live['healthz_max_ms'], ' ms')} "
          f"({live['healthz_answers']:,} answers)", load=load)


def _upload_rows(t: Table, d: dict, load: float) -> None:
    size = f"{d['pages']}-page, {d['file_bytes'] / 1e6:.0f} MB PDF"
    t.add(f"upload validation of a {size} (checked in a child process)",
          f"{_num(d['check_s'], ' s', 2)}, child peak RSS {_num(d['check_child_peak_rss_mb'], ' MB', 0)}", load=load)
    t.add(f"whole intake of the {size} (hash, check, store)", _num(d["intake_s"], " s", 2), load=load)
    t.add("decompression bomb (4 MB → 4 GiB) refused", f"{d['bomb_code']} in {_num(d['bomb_refuse_s'], ' s', 2)}",
          "refused", met=bool(d.get("bomb_code")), load=load)


def _minutes_rows(t: Table, d: dict, load: float) -> None:
    what = f"minutes of {d['attendees']} attendees, {d['items']} items, {d['polls']} polls"
    full = d["attendees"] >= 500 and d["polls"] >= 40
    t.add(f"{what}: composed ({d['pages']} pages)", _num(d["compose_s"], " s", 2), "≤ 5 s",
          f"ReportLab alone {_num(d['baseline_s'], ' s', 2)} ({d['baseline_pages']} pages)",
          d["compose_vs_baseline"], d["compose_s"] <= 5.0 if full else None, load)
    for who in ("secretary", "chair"):
        t.add(f"{what}: {who}'s signature ({d.get('level_b_b', 'B-B')})", _num(d[f"sign_{who}_s"], " s", 2),
              "≤ 1 s", met=d[f"sign_{who}_s"] <= 1.0 if full else None, load=load)
    t.add(f"{what}: verifying both signatures", _num(d["verify_two_signatures_s"], " s", 2), load=load)
    # B-LT: the organization's own OCSP answers and timestamp unit; B-LTA: a TSA on this machine (certomancer).
    for key in ("b_lt", "b_lta"):
        if f"sign_secretary_{key}_s" not in d:
            continue
        level = d[f"level_{key}"]
        for who in ("secretary", "chair"):
            t.add(f"{what}: {who}'s signature ({level})", _num(d[f"sign_{who}_{key}_s"], " s", 2),
                  "≤ 1 s", met=d[f"sign_{who}_{key}_s"] <= 1.0 if full else None, load=load)
        t.add(f"{what}: verifying both {level} signatures", _num(d[f"verify_{key}_s"], " s", 2), load=load)


def _annotation_rows(t: Table, d: list[dict], load: float) -> None:
    """bench/annotation_fanout.py: strokes in flight per N against bare (the fan-out rows), the finished
    strokes' latency, and the crowd phase (K drawing at once at the largest N): p99, delivered, saturated?"""
    fan = [r for r in d if r.get("mode") in ("live", "bare")]
    first = next((r for r in fan if "drawers" in r), None)
    _fanout_rows(t, fan, "shared-annotation fan-out (strokes in flight)", load,
                 f" ({first['drawers']} drawing at {first['offered_updates_per_s'] / max(1, first['drawers']):g}/s)"
                 if first else "")
    for r in (r for r in fan if r["mode"] == "live" and r.get("finished_p99_ms") is not None):
        br = next((b for b in fan if b["mode"] == "bare" and b["clients"] == r["clients"]), {})
        t.add(f"shared annotation: finished stroke stored → every tablet, p99, {r['clients']:,} delegates",
              f"{_num(r['finished_p99_ms'], ' ms')} ({r.get('strokes_stored', 0):,} stored)",
              baseline=f"{_num(br.get('finished_p99_ms'), ' ms')} (bare broadcast)" if br else "—",
              ratio=_ratio(r["finished_p99_ms"], br.get("finished_p99_ms")), load=load)
    live = next((r for r in d if r.get("mode") == "crowd_live"), None)
    if live:
        br = next((r for r in d if r.get("mode") == "crowd_bare"), {})
        why = "; ".join(live.get("saturated_because") or []) or "not saturated"

        def said(r: dict) -> str:
            return (f"{_num(r.get('p99_ms'), ' ms')} (p50 {_num(r.get('p50_ms'), ' ms')}; "
                    f"{_num(r.get('delivered_ratio'), '', 3)} of {r.get('deliveries_due', 0):,} delivered, "
                    f"{_num(r.get('deliveries_per_s'))}/s in {_num(r.get('messages_per_s'))} messages/s; "
                    f"CPU {_num(r.get('server_cpu_pct'), ' %')})")
        t.add(f"shared annotation: {live['drawers']} drawing at once, {live['clients']:,} delegates",
              f"{said(live)}; {why}", "not saturated, ≥ 95 % delivered",
              said(br) if br else "missing", _ratio(live.get("p99_ms"), br.get("p99_ms")),
              not live.get("saturated"), load)


ROWS = {"fanout": lambda t, d, ld: _fanout_rows(t, d, "page-turn fan-out", ld, goal=1.15),
        "annotation_fanout": lambda t, d, ld: _annotation_rows(t, d, ld),
        "vote_storm_sqlite": _vote_rows, "vote_storm_postgresql": _vote_rows,
        "secret_storm_sqlite": _secret_rows, "secret_storm_postgresql": _secret_rows,
        "secret_board": _secret_board_rows, "outbox_send": _outbox_rows,
        "reconnect_storm": _reconnect_rows, "reconnect_storm_postgresql": _reconnect_rows, "delivery": _delivery_rows,
        "login_storm": _login_rows, "login_storm_rfc9106": _login_rows,
        "upload_validation": _upload_rows, "minutes": _minutes_rows, "ocr_pages": lambda t, d, ld: _ocr_rows(t, d, ld),
        "bulk_import_sqlite": lambda t, d, ld: _bulk_rows(t, d, ld),
        "bulk_import_postgresql": lambda t, d, ld: _bulk_rows(t, d, ld),
        "convert_pages": lambda t, d, ld: _convert_rows(t, d, ld),
        "scaleout": scaleout_report.rows}


def _convert_rows(t: Table, d: dict, load: float) -> None:
    """bench/convert_pages.py: LibreOffice conversion time per page (median, cold start each)."""
    for c in d["cases"]:
        t.add(f"conversion to PDF: {c['label']} ({c['pages']} pages)",
              f"{_num(c['seconds_per_page'], ' s', 3)} per page ({_num(c['seconds_median'], ' s', 2)})", load=load)


def _ocr_rows(t: Table, d: dict, load: float) -> None:
    """bench/ocr_pages.py: OCR time per page of a 200 dpi scan, as the job queue's task runs it."""
    for r in d["runs"]:
        t.add(f"OCR of a {r['pages']}-page scan, {r['jobs']} page(s) at once ({r['key_words_found']}/"
              f"{r['key_words']} key words read)", f"{_num(r['seconds_per_page'], ' s', 2)} per page "
              f"({_num(r['seconds'], ' s', 1)})", load=load)


def _bulk_rows(t: Table, d: dict, load: float) -> None:
    """bench/bulk_import.py: the import's dry run + apply against the 5 s goal, and the group roll call."""
    db_name, n = d["database"], d["rows"]
    t.add(f"import of {n} people from XLSX, dry run + apply ({db_name})",
          f"{_num(d['dry_run_plus_apply_s'], ' s', 2)} "
          f"({_num(d['dry_run_s'], ' s', 2)} + {_num(d['apply_s'], ' s', 2)})",
          "≤ 5 s", met=d["dry_run_plus_apply_s"] <= 5, load=load)
    t.add(f"the same import into a published meeting: {n} invitations composed ({db_name})",
          _num(d["apply_published_s"], " s", 1), load=load)
    t.add(f"{n} marked present in one call ({db_name})", _num(d["group_present_s"], " s", 2),
          baseline=f"one by one: {_num(d['one_by_one_full_roll_estimate_s'], ' s', 0)} (whole roll each), "
                   f"{_num(d['one_by_one_short_estimate_s'], ' s', 0)} (?roll=false)",
          ratio=_ratio(d["one_by_one_full_roll_estimate_s"], d["group_present_s"]), load=load)


def growth(run: dict, out: Path) -> tuple[str, str | None]:
    """The fan-out figures by N as a small table, and the PNG plot of p99 against N (its file name)."""
    series: dict[str, list[tuple[float, float]]] = {}
    by_n: dict[int, dict[str, str]] = {}
    for o in run["scenarios"]:
        if o["name"] not in ("fanout", "annotation_fanout") or not o["data"]:
            continue
        label = "page turn" if o["name"] == "fanout" else "annotation"
        for r in o["data"]:
            if r.get("mode") in ("live", "bare") and r.get("p99_ms") is not None:
                series.setdefault(f"{label}, {r['mode']}", []).append((r["clients"], r["p99_ms"]))
                by_n.setdefault(r["clients"], {})[f"{label} {r['mode']}"] = (
                    f"{_num(r['p99_ms'])} ({_num(r.get('server_peak_rss_mb'), ' MB', 0)})")
    if not by_n:
        return "", None
    cols = ["page turn live", "page turn bare", "annotation live", "annotation bare"]
    lines = ["| delegates | " + " | ".join(f"{c} p99 ms (peak RSS)" for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    lines += [f"| {n:,} | " + " | ".join(by_n[n].get(c, "—") for c in cols) + " |" for n in sorted(by_n)]
    png = line_chart(series, out / "fanout.png", title="Fan-out p99 against delegates (live solid, bare dashed)",
                     x_label="delegates in the meeting", y_label="p99 ms")
    return "\n".join(lines), (png.name if png else None)


def build_report(run: dict, out: Path) -> str:
    """bench/README.md for this run: the table, growth with N, problems, and where the method is written."""
    t = Table()
    problems = []
    for o in run["scenarios"]:
        load = o["load_average"][0]
        if o["data"] is None or o["rc"] != 0:
            why = f"timed out after {o['deadline_s']:.0f} s" if o["timed_out"] else f"exit status {o['rc']}"
            problems.append(f"- **{o['title']}** (`{o['command']}`): {why}"
                            + ("".join(f"\n    {line}" for line in o["log_tail"]) if o["log_tail"] else ""))
        if o["data"] is None:
            t.add(o["title"], f"**failed** ({'timed out' if o['timed_out'] else 'exit ' + str(o['rc'])})",
                  met=False, load=load)
            continue
        try:
            ROWS[o["name"]](t, o["data"], load)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            t.add(o["title"], f"**unreadable result** ({type(exc).__name__}: {exc})", met=False, load=load)
    table_n, png = growth(run, out)
    date = run["date"]
    lines = [
        "<!-- Written by bench/run.py (`make bench`); every run replaces this file. The method, the commands and",
        "     the notes from earlier runs are in METHOD.md. -->",
        "# Benchmarks",
        "",
        f"Run of **{date}**, {run['mode']} mode (`make bench{' ARGS=--quick' if run['mode'] == 'quick' else ''}`), "
        f"{run['wall_s'] / 60:.1f} min in all, on {run['machine']['cpus']} CPUs "
        f"(Python {run['machine']['python']}, Linux {run['machine']['kernel']}). Clients, servers and baselines "
        "share the same machine; every baseline was measured in this run, just before or after its figure. "
        "How each figure is measured: [METHOD.md](METHOD.md). Raw figures: [results.json](results.json).",
        "",
    ]
    if run.get("partial_rerun"):
        lines += [f"> Some scenarios were run again on {run['partial_rerun']} (`--only`); the others keep the "
                  "figures of the run above (each scenario's date is in the last table).", ""]
    if run["mode"] == "quick":
        lines += ["> **Quick mode**: small N and short phases, several scenarios at once, to check the benchmarks "
                  "work (variants of a script on PostgreSQL or with other costs run in full mode only); the goals are "
                  "written for the full sizes and the scenarios shared the machine: the figures are not comparable.",
                  ""]
    met = sum(1 for r in t.rows if r[5] == MET[True])
    lines += [f"**{met} goals met, {len(t.misses)} not met**"
              + (": " + "; ".join(t.misses) + "." if t.misses else "."), "", t.markdown(), "",
              "¹ load: the machine's 1-minute load average when the scenario started (2 cores: above 2 means other "
              "work was competing with the benchmark and its baseline alike).", ""]
    if table_n:
        lines += ["## How fan-out grows with the number of delegates", "", table_n, ""]
        if png:
            lines += [f"![p99 against delegates]({png})", ""]
    lines += scaleout_report.curve(run, out)  # the "scale-out curve" section (bench/scaleout_report.py)
    notes = BENCH / "NOTES.md"  # hand-written: the causes of goals missed, kept across runs
    if notes.exists() and run["mode"] == "full":
        lines += [notes.read_text("utf-8").rstrip(), ""]
    lines += ["## Scenarios in this run", "", "| scenario | command | load at start (1/5/15 min) | wall |",
              "|---|---|---|---|"]
    lines += [f"| {o['title']}{' (measured ' + o['measured_in'] + ')' if o.get('measured_in') else ''} | "
              f"`{o['command']}` | {' / '.join(f'{x:.1f}' for x in o['load_average'])} | "
              f"{o['seconds']:.0f} s |" for o in run["scenarios"]]
    lines.append("")
    if problems:
        lines += ["## Problems in this run", "", *problems, ""]
    return "\n".join(lines)


def merged_with_previous(run: dict, previous: Path) -> dict:
    """A partial run (``--only``) put into the last full run: its scenarios replace theirs, the
    others keep their figures and say when they were measured (``rerun_of``: the earlier run's date)."""
    try:
        before = json.loads(previous.read_text("utf-8"))
    except (OSError, ValueError):
        return run
    if before.get("mode") != "full":
        return run
    fresh = {o["name"]: o for o in run["scenarios"]}
    scenarios = []
    for o in before.get("scenarios", []):
        if o["name"] in fresh:
            scenarios.append(fresh.pop(o["name"]))
        else:
            scenarios.append({**o, "measured_in": o.get("measured_in") or before["date"]})
    scenarios += fresh.values()
    return {**before, "scenarios": scenarios, "partial_rerun": run["date"],
            "wall_s": round(before.get("wall_s", 0), 1)}


# ----------------------------------------------------------------------------- main

def _run_and_tell(sc: Scenario, quick: bool, work: Path) -> dict:
    print(f"== {sc.name} (load {load_average()[0]:.2f}) …", flush=True)
    outcome = run_script(sc, quick, work)
    status = "ok" if outcome["rc"] == 0 and outcome["data"] is not None else (
        "TIMED OUT" if outcome["timed_out"] else f"FAILED rc={outcome['rc']}")
    print(f"   {sc.name}: {status} in {outcome['seconds']} s", flush=True)
    for line in outcome["log_tail"]:
        print(f"   {sc.name} | " + line, flush=True)
    return outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small N and short phases (under 2 min)")
    ap.add_argument("--lanes", type=int, help="scenarios run at once (default: 1 in full mode, where they would "
                    "disturb each other's figures; 4 in quick mode, a smoke run whose figures are not comparable)")
    ap.add_argument("--only", nargs="+", choices=[s.name for s in SCENARIOS], help="run only these scenarios")
    ap.add_argument("--out", default=str(BENCH), help="where README.md, results.json and fanout.png go")
    ap.add_argument("--from-json", metavar="RESULTS", help="run nothing: rewrite README.md and the plot from a "
                    "results.json written by an earlier run")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_json:
        run = json.loads(Path(args.from_json).read_text("utf-8"))
        if Path(args.from_json).resolve() != (out / "results.json").resolve():
            write_json(out / "results.json", run)
        (out / "README.md").write_text(build_report(run, out), "utf-8")
        print(f"wrote {out / 'README.md'} from {args.from_json}")
        return
    if args.quick and args.out == str(BENCH):
        out = BENCH / "quick"  # a smoke run never replaces the full run's figures
        out.mkdir(exist_ok=True)
    chosen = [s for s in SCENARIOS if (s.name in args.only if args.only else not (args.quick and s.variant))]
    began, t0 = datetime.now().astimezone(), time.monotonic()
    lanes = max(1, args.lanes or (4 if args.quick else 1))
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        if lanes == 1:
            outcomes = [_run_and_tell(sc, args.quick, Path(tmp)) for sc in chosen]
        else:  # a smoke run: the scenarios share the machine, every port and folder is their own
            longest_first = sorted(chosen, key=lambda sc: -sc.timeout)
            with ThreadPoolExecutor(lanes) as pool:
                done = dict(zip((sc.name for sc in longest_first),
                                pool.map(lambda sc: _run_and_tell(sc, args.quick, Path(tmp)), longest_first),
                                strict=True))
            outcomes = [done[sc.name] for sc in chosen]
    wall = time.monotonic() - t0
    run = {"date": began.isoformat(timespec="seconds"), "mode": "quick" if args.quick else "full",
           "wall_s": round(wall, 1), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                  "kernel": platform.release()},
           "scenarios": outcomes}
    if args.only and not args.quick:
        run = merged_with_previous(run, out / "results.json")
    write_json(out / "results.json", run)
    readme = build_report(run, out)
    (out / "README.md").write_text(readme, "utf-8")
    print(f"wrote {out / 'README.md'} in {wall:.0f} s total", flush=True)
    failed = [o["name"] for o in outcomes if o["rc"] != 0 or o["data"] is None]
    if failed:
        print("scenarios that failed: " + ", ".join(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
