"""Our own nginx in front of a live server, configured from docs/deployment.md itself.

    front = NginxFront(work_dir, app_ports=[server_port], storage=storage_path)
    try:
        requests.get(front.url + "/healthz")
    finally:
        front.stop()

The config is the documented one (the ``### nginx`` block, with the
``X-Accel-Redirect`` internal location of the next section inside its server),
changed only where a test machine differs: no TLS (``listen 127.0.0.1:<port>``),
the live servers' ports as the upstream, the test's storage folder as the alias,
and pid, logs and temp paths in ``work``. So a test through it checks the config
an operator copies. Debian's ``nginx-light`` (``/usr/sbin/nginx``); the system's
nginx is not touched.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.live_server import PROJECT_ROOT, free_port

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
DEPLOYMENT = PROJECT_ROOT / "docs" / "deployment.md"
ACCEL_PREFIX = "/_files"  # the documented X_ACCEL_REDIRECT_PREFIX

_WRAPPER = """\
{user}worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    types {{ application/pdf pdf; text/html html; }}
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
{config}
}}
"""


def _blocks(text: str) -> list[str]:
    return re.findall(r"```nginx\n(.*?)```", text, flags=re.S)


def documented_config(*, app_ports: list[int], listen_port: int, storage: Path, work: Path) -> str:
    """nginx.conf: docs/deployment.md's nginx block plus its internal files location, for this machine."""
    text = DEPLOYMENT.read_text("utf-8")
    main = next(b for b in _blocks(text) if "upstream meetings" in b)
    accel = _blocks(text.split("<!-- nginx-accel-location", 1)[1])[0]
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in app_ports)
    main = re.sub(r"(upstream meetings \{\n(?:.*\n)*?)((?:    server [^\n]*\n)+)", lambda m: m.group(1) + servers,
                  main, count=1)
    main = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", main, count=1, flags=re.S)  # the TLS redirect
    main = main.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen_port};")
    main = "\n".join(line for line in main.splitlines() if not re.match(r"\s*(ssl_|http2 )", line))
    # $host drops the port: on 443 that is the origin's host, on our free port the origin check
    # (Socket.IO's allow-list) would see a different host; $http_host keeps it.
    main = main.replace("proxy_set_header Host $host;", "proxy_set_header Host $http_host;")
    accel = re.sub(r"alias [^;]+;", f"alias {str(storage).rstrip('/')}/;", accel)
    assert "location /socket.io/" in main and "internal;" in accel
    main = main.replace("    location /socket.io/", accel.rstrip() + "\n\n    location /socket.io/", 1)
    user = "user root;\n" if os.geteuid() == 0 else ""  # its worker must read the test's private temp folders
    return _WRAPPER.format(user=user, work=work, config=main)


class NginxFront:
    """An nginx master in the foreground, in its own process group, in front of ``app_ports``."""

    def __init__(self, work: Path, *, app_ports: list[int], storage: Path):
        work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.work = work
        conf = work / "nginx.conf"
        conf.write_text(documented_config(app_ports=app_ports, listen_port=self.port, storage=storage, work=work))
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(work), "-g", "daemon off;"],
                                     stdout=(work / "nginx.out").open("wb"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30  # a start-up deadline, not a measurement
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start: {self.log()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in (self.work / "nginx.out",
                                                                          self.work / "nginx-error.log")
                         if p.exists())

    def stop(self) -> None:
        """Graceful stop (SIGQUIT: the master stops its worker), SIGKILL if it lingers; safe twice."""
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
