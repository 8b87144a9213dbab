"""Benchmark: requests per second and latency of the default project under gunicorn.

For SQLite and PostgreSQL, the default project (token auth) is rendered from two
commits of the template (before: default the last release; after: HEAD), installed,
migrated and seeded, each served by gunicorn on 127.0.0.1 and loaded by wrk from a
second process, side by side: GET /api/v1/posts (a page of 20), GET /api/v1/posts/<id> and
POST /api/v1/posts, and GET /api/v1/users/<id> with an admin token (token, caller and row
read: the authenticated read). In the same run a bare Flask app returning a constant JSON
body is served the same way: the ceiling of the stack. Each endpoint is
reported as a ratio of that ceiling. Every figure is the median of several
runs taken after a warm-up.
Usage: `uv run python bench/throughput.py [seconds per run] [--before REF]`
(needs wrk: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import (
    SERVER_URLS,
    clean_env,
    head,
    install,
    interpreter,
    last_release,
    median,
    record,
    render,
)

from tests.served import free_port, stop

HERE = Path(__file__).resolve().parent
WORKERS = 2
CONNECTIONS = 8
# Each figure: the median of RUNS runs, after a discarded warm-up run of WARM_UP seconds.
RUNS = 3
WARM_UP = 3
SECRET = "benchmark-secret-key-0123456789abcdef-0123"
SEED = """
from my_service import create_app
from my_service.extensions import db
from my_service.models import Post, User
app = create_app()
with app.app_context():
    author = db.session.get(User, 1)
    posts = [Post(title=f"Post {i}", body="Some text " * 20, author=author) for i in range(200)]
    db.session.add_all(posts)
    db.session.commit()
"""


def serve(
    bin_dir: Path,
    app: str,
    ready: str,
    cwd: Path,
    env: dict[str, str],
    config: bool = True,
) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn on a free port, once ``ready`` (a path) answers 200.

    gunicorn listens before its workers have imported the app, so an open port
    is not enough. ``config=False`` skips a gunicorn.conf.py in ``cwd``.
    """
    port = free_port()
    options = [] if config else ["--config", "/dev/null"]
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            *options,
            *("--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), app),
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=5) as answer:
                if answer.status == 200:
                    return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{app} did not start")


class Ceiling:
    """The bare Flask app, kept running: its runs are interleaved with every endpoint's.

    This machine's speed drifts by tens of percent within minutes, so each endpoint
    run is compared with the ceiling runs just before and after it.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.runs: list[dict[str, float]] = []

    def once(self, seconds: int) -> float:
        run = once(self.url, seconds)
        self.runs.append(run)
        return run["rps"]

    def figures(self) -> dict[str, float]:
        return median_run(self.runs)


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def load(url: str, seconds: int, ceiling: Ceiling, script: Path | None = None) -> dict[str, float]:
    """RUNS runs after a warm-up (the workers' first requests are not counted).

    Figures of the median run; its share of the ceiling is the median of each run's
    requests/s over the mean of the ceiling runs on either side of it.
    """
    once(url, WARM_UP, script)
    runs, shares = [], []
    before = ceiling.once(seconds)
    for _ in range(RUNS):
        run = once(url, seconds, script)
        after = ceiling.once(seconds)
        runs.append(run)
        shares.append(run["rps"] / ((before + after) / 2))
        before = after
    return median_run(runs) | {"share": median(shares)}


def found(pattern: str, output: str) -> re.Match[str]:
    """``pattern`` in wrk's output; an error naming it when wrk printed no such line."""
    match = re.search(pattern, output)
    if match is None:
        raise RuntimeError(f"no {pattern!r} in wrk's output:\n{output}")
    return match


def once(url: str, seconds: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(found(r"Requests/sec:\s+([\d.]+)", output)[1])
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url}: {errors[1]} error responses\n{output}")

    def latency(percent: str) -> float:
        value, unit = found(rf"\s{percent}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}


def post_script(directory: Path, token: str) -> Path:
    body = json.dumps({"title": "Load", "body": "Posted by wrk."})
    script = directory / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    return script


def get_script(directory: Path, token: str) -> Path:
    script = directory / "get.lua"
    script.write_text(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    return script


def login(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        data=json.dumps({"email": "admin@example.com", "password": "bench-password"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        token: str = json.load(response)["data"]["access_token"]
    return token


def run_sql(bin_dir: Path, server: str, sql: str) -> None:
    """One statement on the server, with the project's own driver."""
    code = f"import psycopg; psycopg.connect({server!r}, autocommit=True).execute({sql!r})"
    subprocess.run([str(bin_dir / "python"), "-c", code], check=True)


def database_url(database: str, workdir: Path, bin_dir: Path) -> str:
    if database == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    name = f"bench_{uuid.uuid4().hex[:8]}"
    server = SERVER_URLS[database].replace("+psycopg", "")
    run_sql(bin_dir, server, f"CREATE DATABASE {name}")
    return SERVER_URLS[database].rsplit("/", 1)[0] + f"/{name}"


def drop_database(database: str, url: str, bin_dir: Path) -> None:
    if database == "sqlite":
        return
    name = url.rsplit("/", 1)[1]
    server = SERVER_URLS[database].replace("+psycopg", "")
    run_sql(bin_dir, server, f"DROP DATABASE {name} WITH (FORCE)")


def measure(
    database: str, projects: dict[str, Path], seconds: int, ceiling: Ceiling
) -> dict[str, dict[str, float]]:
    """Every endpoint of each project (before, after) against one seeded database."""
    first = next(iter(projects.values()))
    bin_dir = first / ".venv" / "bin"
    url = database_url(database, first.parent, bin_dir)
    env = clean_env(
        APP_ENV="production",
        SECRET_KEY=SECRET,
        DATABASE_URL=url,
        ADMIN_PASSWORD="bench-password",
        LOGIN_RATE_LIMIT="1000 per second",
        RATELIMIT_KEY_PREFIX=f"bench-{uuid.uuid4().hex}",
        WEB_CONCURRENCY=str(WORKERS),
    )
    try:
        flask = [str(bin_dir / "flask"), "--app", "my_service"]
        subprocess.run(
            [*flask, "db", "upgrade"], cwd=first, env=env, check=True, capture_output=True
        )
        subprocess.run(
            [*flask, "create-admin", "admin@example.com"],
            cwd=first,
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run([str(bin_dir / "python"), "-c", SEED], cwd=first, env=env, check=True)
        # Each project as it ships (its own gunicorn.conf.py), side by side.
        servers = {
            label: serve(
                project / ".venv" / "bin", "my_service:create_app()", "/readyz", project, env
            )
            for label, project in projects.items()
        }
        try:
            token = login(next(iter(servers.values()))[1])
            figures = {}
            for endpoint, path, script in (
                ("GET /api/v1/posts (20 rows)", "/api/v1/posts?per_page=20", None),
                ("GET /api/v1/posts/<id>", "/api/v1/posts/100", None),
                (
                    "GET /api/v1/users/<id> (admin token)",
                    "/api/v1/users/1",
                    get_script(first.parent, token),
                ),
                ("POST /api/v1/posts", "/api/v1/posts", post_script(first.parent, token)),
            ):
                for label, (_, port) in servers.items():
                    target = f"http://127.0.0.1:{port}{path}"
                    figures[f"{endpoint}, {label}"] = load(target, seconds, ceiling, script)
        finally:
            for server, _ in servers.values():
                stop(server)
        if database == "postgresql":
            figures[READ_CEILING] = read_ceiling(first, bin_dir, url, seconds, ceiling)
        return figures
    finally:
        drop_database(database, url, bin_dir)


READ_CEILING = "bare Flask + one psycopg query (read ceiling)"
READ_CEILING_NOTE = (
    "Between it and GET /api/v1/posts/<id> lie the service's own layers: the pool, the "
    "session and ORM, the response schema, the JSON access log, metrics and headers."
)


def read_ceiling(
    project: Path, bin_dir: Path, url: str, seconds: int, ceiling: Ceiling
) -> dict[str, float]:
    """The same row read by bare Flask and psycopg: what the database alone costs."""
    shutil.copy(HERE / "ceiling_db_app.py", project / "ceiling_db_app.py")
    env = clean_env(CEILING_DATABASE_URL=url.replace("+psycopg", ""))
    server, port = serve(bin_dir, "ceiling_db_app:app", "/posts/100", project, env, config=False)
    try:
        return load(f"http://127.0.0.1:{port}/posts/100", seconds, ceiling)
    finally:
        stop(server)


@contextmanager
def ceiling_server(workdir: Path, bin_dir: Path) -> Iterator[Ceiling]:
    for name in ("ceiling_app.py", "ceiling_body.py"):
        shutil.copy(HERE / name, workdir / name)
    server, port = serve(bin_dir, "ceiling_app:app", "/post", workdir, clean_env())
    try:
        url = f"http://127.0.0.1:{port}/post"
        once(url, WARM_UP)
        yield Ceiling(url)
    finally:
        stop(server)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", nargs="?", type=int, default=5, help="seconds per run")
    parser.add_argument("--before", default=None, help="git ref of the 'before' template")
    args = parser.parse_args()
    seconds, before, after = args.seconds, args.before or last_release(), head()
    rows = [
        f"gunicorn with {WORKERS} workers on 127.0.0.1, each endpoint served by the default "
        f"project before ({before}) and after ({after}) the change, side by side, each as it "
        "ships (its gunicorn.conf.py: gevent workers); the ceiling "
        f"apps run sync workers. wrk, 2 threads, {CONNECTIONS} "
        f"connections, on the same machine (it shares the 2 cores). Production config (JSON "
        f"logs, metrics, rate limiter on). Each endpoint: a {WARM_UP} s warm-up once the server "
        f"answers (worker start-up is not counted), then {RUNS} runs of {seconds} s, each between "
        "two runs of the ceiling; figures of the median run, and the median of each run's "
        "share of the ceiling runs beside it (this machine's speed drifts within minutes). "
        "Ceiling row: the median of all its runs.",
        "",
        "| endpoint | database | requests/s | p50 | p99 | share of the ceiling |",
        "|---|---|---|---|---|---|",
    ]
    databases = ("sqlite", "postgresql")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        projects = {
            database: {
                label: install(render(workdir / database / label, ref, database=database)).parents[
                    1
                ]
                for label, ref in (("before", before), ("after", "HEAD"))
            }
            for database in databases
        }
        bin_dir = projects[databases[0]]["after"] / ".venv" / "bin"
        with ceiling_server(workdir, bin_dir) as ceiling:
            results = {db: measure(db, projects[db], seconds, ceiling) for db in databases}
        top = ceiling.figures()
        python = interpreter(bin_dir)
    rows.append(
        f"| bare Flask, constant JSON (ceiling) | none | {top['rps']:.0f} | {top['p50']:.2f} ms "
        f"| {top['p99']:.2f} ms | 100% |"
    )
    for database, endpoints in results.items():
        for endpoint, figures in endpoints.items():
            rows.append(
                f"| {endpoint} | {database} | {figures['rps']:.0f} | {figures['p50']:.2f} ms "
                f"| {figures['p99']:.2f} ms | {figures['share']:.0%} |"
            )
    rows += [
        "",
        f"The read ceiling serves the same row with bare Flask and one psycopg query on one "
        f"autocommit connection (no pool, ORM, schema, logs or metrics): what the database "
        f"costs. {READ_CEILING_NOTE}",
        "",
        python,
    ]
    record("Service throughput", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
