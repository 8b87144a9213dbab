"""gunicorn settings, read from the environment (gunicorn loads this file by itself)."""

import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any

from gunicorn import util


def _integer(name: str, default: int, minimum: int) -> int:
    """An integer from the environment; a bad one stops gunicorn, naming the variable.

    (The app's config module has its own: importing the app here, in the master before
    gevent patches the workers, would leave every module it loads unpatched.)
    """
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


# gunicorn serves production settings only. Development's (any Host, /metrics open to
# every client, limits and a signing secret per process) are for `flask run`, which
# serves one process on loopback.
if os.environ.get("APP_ENV", "production") != "production":
    raise SystemExit(
        f"APP_ENV={os.environ['APP_ENV']!r}: gunicorn serves only APP_ENV=production "
        "(unset it or set it to production; for development run `flask run`)"
    )

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# At least one: with none, gunicorn listens but never answers.
workers = _integer("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1, minimum=1)
# gevent: each connection waits in a greenlet of its own, so clients that send their
# request a byte at a time cannot hold a worker. Sync and threaded workers give each
# such client a whole process or thread until it finishes: a handful stop the service.
worker_class = "gevent"
# Connections one worker holds at once, slow ones included; more wait to be accepted.
worker_connections = _integer("GUNICORN_WORKER_CONNECTIONS", 1000, minimum=1)
timeout = _integer("GUNICORN_TIMEOUT", 30, minimum=0)
# Time for in-flight requests to finish on SIGTERM before workers are killed.
graceful_timeout = _integer("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=0)
keepalive = 5
# Replace each worker after this many requests (0: never), so a slow leak cannot grow
# forever. Not much more often: a new worker imports the whole app, a second or so of CPU
# while the others carry its connections, and under load 10,000 requests go by in seconds.
max_requests = _integer("GUNICORN_MAX_REQUESTS", 200_000, minimum=0)
max_requests_jitter = max_requests // 10
# The app logs each request itself (JSON in production), so gunicorn's access log stays off.
accesslog = None
errorlog = "-"
# gunicorn 25.1 and later serve a control socket (for `gunicornc`: worker counts, reload,
# shutdown) at one path per user, which every instance on the host takes over and removes
# when it stops. Off, unless GUNICORN_CONTROL_SOCKET names this instance's own path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = control_socket == ""
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Longest request line and header gunicorn accepts (it answers longer ones itself, 414
# and 431, in plain HTML): well above what any client of this API sends.
limit_request_line = 8190
limit_request_field_size = 8190

# Workers write their metrics here, so /metrics reports all of them, not just one.
# It must be set before prometheus_client is first imported (by the workers' app).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="prometheus-"))


def on_starting(server: Any) -> None:
    # The app reads the worker count (config.py): login limits counted in each process
    # are refused with more than one.
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def post_worker_init(worker: Any) -> None:
    """Answer the requests gunicorn refuses itself in the service's error schema.

    A request line or headers over gunicorn's limits, and malformed HTTP, never reach the
    app: gunicorn answers them with an HTML page of its own, written by
    ``gunicorn.util.write_error``. The app, loaded by now, offers the answer in its own
    schema (errors: ``refusal_response``); an app without one keeps gunicorn's page.
    """
    refusal = getattr(worker.wsgi, "extensions", {}).get("refusal_response")
    if refusal is None:
        return

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        response = refusal(status_int)
        head = [f"HTTP/1.1 {response.status}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.get_data()
        util.write_nonblock(sock, data)

    # gunicorn's handlers call it through its module: this worker's refusals take ours.
    util.write_error = write_error


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    # prometheus_client leaves this function unannotated.
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
