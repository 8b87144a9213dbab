"""Benchmark: does /healthz keep answering while slow clients hold connections?

The default project (SQLite) is served by gunicorn with two workers of each class:
gevent (as gunicorn.conf.py ships), sync and gthread (8 threads). Against each, 50
clients send a request one byte a second (half trickle their headers, half their
body) for 30 s, while this process asks for /healthz twice a second and records how
long each answer takes (a probe gives up after 5 s).
Usage: `uv run python bench/slow_clients.py [seconds]`.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import clean_env, install, interpreter, median, record, render
from throughput import SECRET

from tests.served import free_port, stop, trickle

CLIENTS = 50
WORKERS = 2
WORKER_CLASSES = {"gevent": [], "sync": [], "gthread": ["--threads", "8"]}
SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
SLOW_BODY = (
    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
)


def probe(port: int) -> float | None:
    """Seconds /healthz took to answer 200; None if it did not within 5 s."""
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
    except OSError:
        return None
    return time.perf_counter() - started if ok else None


def serve(
    bin_dir: Path, project: Path, env: dict[str, str], options: list[str]
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "my_service:create_app()",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    answers = 0
    while answers < 8 and time.monotonic() < deadline:
        answers = answers + 1 if probe(port) is not None else 0
        time.sleep(0.1)
    return server, port


def attack(port: int, seconds: int) -> list[float | None]:
    until = time.monotonic() + seconds
    clients = [
        threading.Thread(target=trickle, args=(port, SLOW_BODY if n % 2 else SLOW_HEADERS, until))
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    time.sleep(1)
    probes = []
    while time.monotonic() < until - 1:
        probes.append(probe(port))
        time.sleep(0.5)
    for client in clients:
        client.join(timeout=seconds + 10)
    return probes


def main() -> int:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    rows = [
        f"Default project (SQLite), production config, gunicorn with {WORKERS} workers on "
        f"127.0.0.1. {CLIENTS} clients send a request a byte a second (half the headers, half "
        f"a body) for {seconds} s; meanwhile /healthz is asked twice a second, each probe "
        "giving up after 5 s.",
        "",
        "| worker class | probes | answered | median | slowest answered |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        project = render(Path(tmp) / "sqlite", database="sqlite")
        bin_dir = install(project)
        env = clean_env(
            APP_ENV="production",
            SECRET_KEY=SECRET,
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'slow.sqlite3'}",
            WEB_CONCURRENCY=str(WORKERS),
            RATELIMIT_KEY_PREFIX="bench-slow",
        )
        subprocess.run(
            [str(bin_dir / "flask"), "--app", "my_service", "db", "upgrade"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
        for worker_class, extra in WORKER_CLASSES.items():
            server, port = serve(bin_dir, project, env, ["--worker-class", worker_class, *extra])
            try:
                probes = attack(port, seconds)
            finally:
                stop(server)
            answered = [p for p in probes if p is not None]
            shipped = " (shipped)" if worker_class == "gevent" else ""
            rows.append(
                f"| {worker_class}{shipped} | {len(probes)} | {len(answered)} | "
                + (
                    f"{median(answered) * 1000:.1f} ms | {max(answered) * 1000:.1f} ms |"
                    if answered
                    else "- | - |"
                )
            )
        python = interpreter(bin_dir)
    rows += ["", python]
    record("Slow clients", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
