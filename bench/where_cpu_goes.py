"""Where a served request's CPU goes, per layer, under load.

Usage: uv run python bench/where_cpu_goes.py [seconds]

Serves the default project (PostgreSQL, gunicorn with its own gunicorn.conf.py, 2 workers)
and loads each operation of bench/peers.py with wrk (2 threads x 8 connections). During
each load it reads the CPU time the gunicorn workers and the project's PostgreSQL backends
used (/proc, user + system), divided by the requests served, and samples one worker's
Python stacks with py-spy (installed from the registry into the project's environment).
Each sample is put in the layer of its innermost frame that belongs to one (psycopg,
SQLAlchemy, Flask...), so a layer's share of the samples times the worker's CPU per
request estimates that layer's milliseconds per request.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from common import clean_env, install, record, reference, reference_line, render
from peers import PUBLIC_READ, gunicorn, our_loads, port, seed_ours, sql
from throughput import WARM_UP, login, once

from tests.tools import SERVER_URLS, tool

# A sample's layer: the first of these its innermost frames' files match, leaf first.
# py-spy names a file from its import root ("psycopg/cursor.py") where it can: the
# patterns are matched against the name with a "/" before it.
LAYERS = (
    ("psycopg (driver, its socket I/O)", r"/psycopg/"),
    ("SQLAlchemy (Core, ORM, pool)", r"/sqlalchemy/|/flask_sqlalchemy/"),
    ("PyJWT (token signature, claims)", r"/jwt/"),
    ("schemas (marshmallow, webargs, flask-smorest)", r"/marshmallow/|/webargs/|/flask_smorest/"),
    ("access log, metrics, request id", r"/logging/__init__|/my_service/observability"),
    ("security headers", r"/my_service/headers"),
    ("token check, access table", r"/my_service/(api/access|security)"),
    ("routes, services, schemas (the project's)", r"/my_service/(api|services|schemas)"),
    ("the project's other modules (edge, limits)", r"/my_service/"),
    ("gunicorn, gevent (HTTP, sockets, hub)", r"/gunicorn/|/gevent/"),
    ("Flask, Werkzeug", r"/flask/|/werkzeug/"),
)
OTHER = "the standard library, the interpreter"
FRAME_FILE = re.compile(r"\((.*?):\d+\)$")
SAMPLES_PER_SECOND = 200


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User + system CPU of each of ``pids`` so far; processes gone are left out."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_since(before: dict[int, float], pids: set[int]) -> float:
    """CPU ``pids`` used since ``before`` (all of it for a process started since); a process
    that ended meanwhile counts for nothing."""
    now = cpu_seconds(pids | before.keys())
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(child) for child in found.split()}


def backends(database: str) -> set[int]:
    """The PostgreSQL server processes serving ``database`` (their title names it)."""
    found = subprocess.run(
        ["pgrep", "-f", f"postgres: .* {database} "], capture_output=True, text=True
    ).stdout
    return {int(pid) for pid in found.split()}


def layers(raw: Path) -> dict[str, int]:
    """Samples per layer from py-spy's raw output (one ``frame;frame;... count`` a line)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        layer = OTHER
        for frame in reversed(stack.split(";")):
            found = FRAME_FILE.search(frame)
            path = "/" + found[1] if found else ""
            match = next((name for name, pattern in LAYERS if re.search(pattern, path)), None)
            if match is not None:
                layer = match
                break
        counts[layer] += int(count)
    return dict(counts)


def main() -> int:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    server = SERVER_URLS["postgresql"].replace("+psycopg", "")
    base_url = server.rsplit("/", 1)[0]
    database = f"bench_cpu_{uuid.uuid4().hex[:8]}"
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        project = install(render(workdir / "project", database="postgresql")).parents[1]
        bin_dir = project / ".venv" / "bin"
        python = str(bin_dir / "python")
        subprocess.run(
            [tool("uv"), "pip", "install", "--quiet", "--python", python, "py-spy"],
            check=True,
            env=clean_env(),
        )
        sql(bin_dir / "python", server, f"CREATE DATABASE {database}")
        master = None
        try:
            env = seed_ours(project, database)
            app = "my_service:create_app()"
            master, url = gunicorn(bin_dir, app, project, env, "/readyz", own_config=True)
            scripts = workdir / "scripts"
            scripts.mkdir()
            loads = our_loads(url, login(port(url)), scripts, "ours")
            cpu_before = reference(bin_dir / "python")
            for name, load in loads.items():
                once(load.url, WARM_UP, load.script)
                workers = children(master.pid)
                processes = {"workers": workers, "backends": backends(database)}
                used = {group: cpu_seconds(pids) for group, pids in processes.items()}
                raw = workdir / f"{len(rows)}.txt"
                profiler = threading.Thread(
                    target=subprocess.run,
                    args=(
                        [
                            str(bin_dir / "py-spy"),
                            *("record", "--nonblocking", "--format", "raw"),
                            *("--rate", str(SAMPLES_PER_SECOND), "--duration"),
                            *(str(seconds - 2), "--pid", str(min(workers)), "--output"),
                            str(raw),
                        ],
                    ),
                    kwargs={"capture_output": True, "check": True},
                )
                started = time.monotonic()
                profiler.start()
                figures = once(load.url, seconds, load.script)
                served = figures["rps"] * (time.monotonic() - started)
                profiler.join()
                processes["backends"] |= backends(database)
                per_request = {
                    group: cpu_since(used[group], pids) / served * 1000
                    for group, pids in processes.items()
                }
                if load.reset:
                    sql(bin_dir / "python", f"{base_url}/{database}", load.reset)
                samples = layers(raw)
                total = sum(samples.values())
                label = "public read" if name == PUBLIC_READ else name
                rows.append(
                    f"| {label} | {figures['rps']:,.0f} | {per_request['workers']:.2f} ms "
                    f"| {per_request['backends']:.2f} ms | {total:,} |"
                )
                for layer, count in sorted(samples.items(), key=lambda item: -item[1]):
                    share = count / total
                    rows.append(
                        f"| | {layer} | {share * per_request['workers']:.2f} ms | | {share:.0%} |"
                    )
            cpu_after = reference(bin_dir / "python")
        finally:
            if master is not None:
                master.terminate()
                master.wait()
            sql(bin_dir / "python", server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    lines = [
        "The default project (PostgreSQL, gunicorn with its gunicorn.conf.py, 2 gevent workers) "
        f"loaded by wrk (2 threads x 8 connections) for {seconds} s per operation. CPU per "
        "request: user + system time of the workers and of the project's PostgreSQL backends "
        "over the requests served. Layers: py-spy's samples of one worker "
        f"({SAMPLES_PER_SECOND} a second), each put in the layer of its innermost frame that "
        "belongs to one; a layer's milliseconds are its share of the samples times the "
        "workers' CPU per request (kernel time falls to the layer that made the system call).",
        "",
        "| operation, then layer | requests/s | worker CPU per request | PostgreSQL CPU per "
        "request | samples (share) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        reference_line(cpu_before, cpu_after, "the loads"),
    ]
    record("Where a served request's CPU goes", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
