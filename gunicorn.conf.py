"""gunicorn settings for the meeting-room server (`make run`, tests/live_server.py).

One gevent worker per process: Flask-SocketIO keeps each socket's state in the
process that accepted it, so a second worker in the same process group would
break Socket.IO's long-polling handshake. Scale out with more processes behind
nginx (docs/deployment.md). Every value can be changed from the environment;
see docs/configuration.md.

The plain ``gevent`` worker serves WebSocket upgrades: with simple-websocket
installed, python-engineio takes over the raw socket itself, so gevent-websocket
(unmaintained) is not needed. tests/test_serve.py proves it by connecting a
websocket-only Socket.IO client to a real gunicorn.
"""
import os

_port = os.environ.get("PORT", "5000")
bind = os.environ.get("BIND", f"127.0.0.1:{_port}")

worker_class = "gevent"
workers = 1
# Each tablet holds one socket; a hall of 1,000 delegates plus HTTP requests fits with room to spare.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))

# A gevent worker only blocks the arbiter's heartbeat when the loop itself is
# stuck; long requests (uploads, downloads) yield and do not count.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Time for open sockets and downloads to finish on restart (SIGTERM / SIGHUP).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5

accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Behind nginx, trust X-Forwarded-* only from the proxy itself.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "meetings"

# gunicorn 25+ opens a control socket at one fixed path per user; several
# processes on one machine (behind nginx, or the test suite) would fight over
# it. Off unless asked for with a path of its own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
if not control_socket:
    del control_socket


def post_worker_init(worker):
    """Let agenda PDFs go out through the kernel's sendfile (meetings/serving.py), and keep the
    objects of start-up (modules, the app, SQLAlchemy's mappers) out of the cyclic collector's
    scans: they live as long as the process, and every full collection would walk them again,
    a pause that shows in the p99 of a page turn to 1,000 tablets."""
    import gc

    from meetings.core.serving import use_kernel_sendfile
    from meetings.platform.realtime.relay import start_listener

    use_kernel_sendfile()
    # Without a message queue: send what the job consumer's broadcasts left in socket_relay.
    start_listener(worker.wsgi)
    gc.collect()
    gc.freeze()



# --- the job consumer beside the server (meetings/platform/jobs, docs/deployment.md) ---------------
# `make run` needs no second command: once the arbiter is ready it starts `flask --app wsgi jobs
# worker`, starts it again if it dies, stops it on exit, and the kernel ends it if the arbiter
# itself is killed (PR_SET_PDEATHSIG; the consumer also watches its parent). Standard library
# only: the arbiter must not import the application (the gevent workers fork from it and patch
# the standard library first). A systemd installation runs the consumer as its own service and
# sets JOBS_CONSUMER=0.
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402


def _consumer_wanted():
    return os.environ.get("JOBS_CONSUMER", "1").strip().lower() not in ("0", "false", "no", "off")


def _die_with_parent():
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start_consumer(server):
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--parent-pid", str(os.getpid())]
    server.consumer = subprocess.Popen(command, cwd=os.path.dirname(os.path.abspath(__file__)),
                                       preexec_fn=_die_with_parent)
    server.log.info("job consumer started (pid %s)", server.consumer.pid)


def _keep_consumer(server):
    delay = 1
    while not server.consumer_stopping.is_set():
        code = server.consumer.wait()
        if server.consumer_stopping.is_set():
            return
        server.log.error("job consumer exited with %s; starting it again in %s s", code, delay)
        if server.consumer_stopping.wait(delay):
            return
        delay = min(delay * 2, 60)
        _start_consumer(server)


def when_ready(server):
    if not _consumer_wanted():
        return
    server.consumer_stopping = threading.Event()
    _start_consumer(server)
    threading.Thread(target=_keep_consumer, args=(server,), daemon=True, name="job-consumer").start()


def on_exit(server):
    consumer = getattr(server, "consumer", None)
    if consumer is None:
        return
    server.consumer_stopping.set()
    consumer.send_signal(signal.SIGINT)  # Huey's graceful stop: running tasks finish
    try:
        consumer.wait(timeout=graceful_timeout)
    except subprocess.TimeoutExpired:
        consumer.kill()
