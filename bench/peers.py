"""Benchmark: the default project against the services teams would pick instead.

Three stacks side by side on one PostgreSQL server, 2 workers each, loaded by wrk from a
second process (2 threads, 8 connections), in interleaved rounds:

- **ours**: the default project (PostgreSQL), as it ships: gunicorn with its own
  gunicorn.conf.py, production configuration (JSON access log, metrics, rate limiter).
- **FastAPI**: bench/peer_fastapi.py, what fastapi/full-stack-fastapi-template's backend
  does (JWT, caller lookup, SQLModel), served by ``fastapi run --workers 2``.
- **DRF**: bench/peer_drf/, what cookiecutter-django's API does (ModelViewSet, token
  authentication, ATOMIC_REQUESTS), served by gunicorn's sync workers.

Operations: an authenticated single-row read (ours: GET /api/v1/users/<id> with an admin
token: token, caller, row; the peers: GET item with its owner check), a page of 20 with
its count, a create; each framework's constant-JSON ceiling; and our public single-row
read (GET /api/v1/posts/<id>) against bare Flask under gunicorn. Each round runs every
load once, in an order that rotates; rows created are deleted after each create run so
that every list counts the same table. A fixed CPU-bound workload is timed before and
after, so readings of different days can be set side by side.

Dependencies come from the registry at run time (the project's lock for ours; the
newest fastapi[standard], sqlmodel, pyjwt, django, djangorestframework, gunicorn and
psycopg for the peers). Writes the "Peers" section of docs/benchmarks.md and
docs/peers.svg. Usage: `uv run python bench/peers.py [seconds per run] [--rounds N]`
(needs wrk: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    SERVER_URLS,
    clean_env,
    install,
    interpreter,
    median,
    record,
    reference,
    reference_line,
    render,
)
from throughput import SECRET, SEED, WARM_UP, WORKERS, login, once

from tests.served import free_port, stop
from tests.tools import tool

HERE = Path(__file__).resolve().parent
SVG = HERE.parent / "docs" / "peers.svg"
ROWS = 200
PEER_PACKAGES = (
    "fastapi[standard]",
    "sqlmodel",
    "pyjwt",
    "django",
    "djangorestframework",
    "gunicorn",
    "psycopg[binary]",
)
STACKS = ("ours", "FastAPI", "DRF")
# With --before: the project of an earlier template, served and loaded like ours.
BEFORE = "ours before"
REPORTED = {
    "fastapi",
    "sqlmodel",
    "uvicorn",
    "django",
    "djangorestframework",
    "gunicorn",
    "psycopg",
    "pydantic",
    "sqlalchemy",
}
CONSTANT = "constant JSON"
OPERATIONS = (CONSTANT, "authenticated read", "list of 20", "create")
# Each stack's framework alone: what its constant-JSON row measures.
FRAMEWORKS = {"ours": "bare Flask", "FastAPI": "bare FastAPI", "DRF": "bare Django"}
PUBLIC_READ = "public read (GET /api/v1/posts/<id>)"


@dataclass
class Load:
    """One (stack, operation): its URL and wrk script, and the runs measured."""

    url: str
    script: Path | None = None
    reset: str | None = None
    runs: list[dict[str, float]] = field(default_factory=list)


def launch(
    argv: Sequence[str], ready: str, cwd: Path, env: dict[str, str], accept: int = 200
) -> subprocess.Popen[bytes]:
    """A server, once ``ready`` (a URL) answers ``accept``: its port listens before workers
    have imported the app."""
    server = subprocess.Popen(
        list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(ready, timeout=5) as answer:
                if answer.status == accept:
                    return server
        except urllib.error.HTTPError as answer:
            if answer.code == accept:
                return server
            time.sleep(0.3)
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"{' '.join(argv)} did not start")


def gunicorn(
    bin_dir: Path,
    app: str,
    cwd: Path,
    env: dict[str, str],
    ready: str,
    own_config: bool = False,
    accept: int = 200,
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    options = [] if own_config else ["--config", "/dev/null"]
    argv = [
        str(bin_dir / "gunicorn"),
        *options,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        app,
    ]
    base = f"http://127.0.0.1:{port}"
    return launch(argv, base + ready, cwd, env, accept), base


def fastapi(
    bin_dir: Path, module: str, cwd: Path, env: dict[str, str], ready: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [
        str(bin_dir / "fastapi"),
        "run",
        "--workers",
        str(WORKERS),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        module,
    ]
    base = f"http://127.0.0.1:{port}"
    return launch(argv, base + ready, cwd, env), base


def script(
    directory: Path,
    name: str,
    method: str,
    token: str,
    scheme: str,
    body: dict[str, str] | None = None,
) -> Path:
    """A wrk script: the method, the Authorization header, a JSON body."""
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "{scheme} {token}"']
    if body is not None:
        lines += [
            f"wrk.body = {json.dumps(json.dumps(body))}",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
    path = directory / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def sql(python: Path, url: str, statement: str) -> None:
    code = f"import psycopg; psycopg.connect({url!r}, autocommit=True).execute({statement!r})"
    subprocess.run([str(python), "-c", code], check=True)


def label(stack: str, operation: str) -> str:
    return FRAMEWORKS[stack] if operation == CONSTANT else stack


def cells(figures: dict[str, float]) -> str:
    return f"{figures['rps']:,.0f} | {figures['p50']:.2f} ms | {figures['p99']:.2f} ms"


def port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def chart(figures: dict[tuple[str, str], dict[str, float]], stacks: Sequence[str]) -> str:
    """Requests/s per operation per stack as horizontal bars, each labelled with its p99."""
    colours = {"ours": "#2b6cb0", "FastAPI": "#38a169", "DRF": "#c05621", BEFORE: "#a0aec0"}
    colours = {stack: colour for stack, colour in colours.items() if stack in stacks}
    width, label_width, bar_max, bar, gap = 800, 170, 360, 16, 3
    rows: list[str] = [
        '<text x="10" y="38" fill="#555">Bars are scaled within each operation.</text>'
    ]
    y = 50
    for operation in OPERATIONS:
        shown = [stack for stack in stacks if (stack, operation) in figures]
        top = max(figures[stack, operation]["rps"] for stack in shown)
        rows.append(f'<text x="10" y="{y + bar + 8}" font-weight="bold">{operation}</text>')
        for stack in shown:
            f = figures[stack, operation]
            length = max(1, round(bar_max * f["rps"] / top))
            rows.append(
                f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar}" '
                f'fill="{colours[stack]}"><title>{stack}: {f["rps"]:.0f} requests/s</title></rect>'
            )
            rows.append(
                f'<text x="{label_width + length + 6}" y="{y + bar - 3}">{label(stack, operation)} '
                f"{f['rps']:,.0f}/s · p99 {f['p99']:.1f} ms</text>"
            )
            y += bar + gap
        y += 18
    legend = " ".join(
        f'<rect x="{label_width + 120 * i}" y="8" width="12" height="12" fill="{colour}"/>'
        f'<text x="{label_width + 120 * i + 16}" y="19">{stack}</text>'
        for i, (stack, colour) in enumerate(colours.items())
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 10}" '
        f'font-family="sans-serif" font-size="12">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n{legend}\n'
        + "\n".join(rows)
        + "\n</svg>\n"
    )


def seed_ours(project: Path, database: str) -> dict[str, str]:
    """Migrate and seed one of our projects on ``database``; its environment."""
    env = clean_env(
        APP_ENV="production",
        SECRET_KEY=SECRET,
        DATABASE_URL=SERVER_URLS["postgresql"].rsplit("/", 1)[0] + f"/{database}",
        ADMIN_PASSWORD="bench-password",
        LOGIN_RATE_LIMIT="1000 per second",
        RATELIMIT_KEY_PREFIX=f"bench-{uuid.uuid4().hex}",
        WEB_CONCURRENCY=str(WORKERS),
    )
    bin_dir = project / ".venv" / "bin"
    flask = [str(bin_dir / "flask"), "--app", "my_service"]
    for command in (["db", "upgrade"], ["create-admin", "admin@example.com"]):
        subprocess.run([*flask, *command], cwd=project, env=env, check=True, capture_output=True)
    subprocess.run([str(bin_dir / "python"), "-c", SEED], cwd=project, env=env, check=True)
    return env


def install_peers(peers: Path, python: Path) -> tuple[Path, str]:
    """The peers' files and environment (newest releases); its bin folder and versions."""
    peers.mkdir()
    for name in ("peer_fastapi.py", "ceiling_fastapi.py", "ceiling_body.py"):
        shutil.copy(HERE / name, peers / name)
    shutil.copytree(
        HERE / "peer_drf", peers / "peer_drf", ignore=shutil.ignore_patterns("__pycache__")
    )
    uv, env = tool("uv"), clean_env()
    venv = peers / ".venv"
    subprocess.run([uv, "venv", "--quiet", "--python", str(python), str(venv)], check=True, env=env)
    target = ["--python", str(venv / "bin" / "python")]
    subprocess.run([uv, "pip", "install", "--quiet", *target, *PEER_PACKAGES], check=True, env=env)
    listed = subprocess.run(
        [uv, "pip", "list", *target, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    versions = ", ".join(
        f"{package['name']} {package['version']}"
        for package in json.loads(listed)
        if package["name"].lower() in REPORTED
    )
    return venv / "bin", versions


def seed_peer(bin_dir: Path, peers: Path, env: dict[str, str], *command: str) -> dict[str, str]:
    """Run a peer's seed command: its token and a row's id."""
    done = subprocess.run(
        [str(bin_dir / "python"), *command],
        cwd=peers,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seeded: dict[str, str] = json.loads(done.stdout)
    return seeded


def our_loads(base: str, token: str, scripts: Path, name: str) -> dict[str, Load]:
    """Our operations on the project served at ``base``."""
    get = script(scripts, f"{name}-get", "GET", token, "Bearer")
    body = {"title": "Load", "body": "Posted by wrk."}
    return {
        "authenticated read": Load(base + "/api/v1/users/1", get),
        "list of 20": Load(base + "/api/v1/posts?per_page=20", get),
        "create": Load(
            base + "/api/v1/posts",
            script(scripts, f"{name}-post", "POST", token, "Bearer", body),
            "DELETE FROM posts WHERE title = 'Load'",
        ),
        PUBLIC_READ: Load(base + "/api/v1/posts/100"),
    }


def peer_loads(
    url: dict[str, str], seeded: dict[str, dict[str, str]], scripts: Path
) -> dict[tuple[str, str], Load]:
    """The peers' operations, and each framework's constant JSON."""
    fastapi_token, drf_token = seeded["FastAPI"]["token"], seeded["DRF"]["token"]
    bearer = script(scripts, "fastapi-get", "GET", fastapi_token, "Bearer")
    token = script(scripts, "drf-get", "GET", drf_token, "Token")
    body = {"title": "Load", "description": "Posted by wrk."}
    fastapi_item, drf_item = seeded["FastAPI"]["item"], seeded["DRF"]["item"]
    return {
        ("ours", CONSTANT): Load(url["Flask ceiling"] + "/post"),
        ("FastAPI", CONSTANT): Load(url["FastAPI ceiling"] + "/post"),
        ("DRF", CONSTANT): Load(url["DRF ceiling"] + "/post"),
        ("FastAPI", "authenticated read"): Load(
            url["FastAPI"] + f"/api/v1/items/{fastapi_item}", bearer
        ),
        ("DRF", "authenticated read"): Load(url["DRF"] + f"/api/items/{drf_item}/", token),
        ("FastAPI", "list of 20"): Load(url["FastAPI"] + "/api/v1/items/?limit=20", bearer),
        ("DRF", "list of 20"): Load(url["DRF"] + "/api/items/", token),
        ("FastAPI", "create"): Load(
            url["FastAPI"] + "/api/v1/items/",
            script(scripts, "fastapi-post", "POST", fastapi_token, "Bearer", body),
            "DELETE FROM item WHERE title = 'Load'",
        ),
        ("DRF", "create"): Load(
            url["DRF"] + "/api/items/",
            script(scripts, "drf-post", "POST", drf_token, "Token", body),
            "DELETE FROM peer_drf_item WHERE title = 'Load'",
        ),
    }


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", nargs="?", type=int, default=6, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--before", default=None, help="git ref of the template: its project joins as a stack"
    )
    args = parser.parse_args()
    stacks = (*STACKS, BEFORE) if args.before else STACKS
    server = SERVER_URLS["postgresql"].replace("+psycopg", "")
    base_url = server.rsplit("/", 1)[0]
    names = {stack: f"bench_{stack.split()[-1].lower()}_{uuid.uuid4().hex[:8]}" for stack in stacks}
    database = {stack: f"{base_url}/{name}" for stack, name in names.items()}
    refs = {"ours": "HEAD"} | ({BEFORE: args.before} if args.before else {})
    running: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        projects = {
            stack: install(
                render(workdir / stack.replace(" ", "-"), ref, database="postgresql")
            ).parents[1]
            for stack, ref in refs.items()
        }
        ours_bin = projects["ours"] / ".venv" / "bin"
        for name in ("ceiling_app.py", "ceiling_body.py"):
            shutil.copy(HERE / name, projects["ours"] / name)
        peers = workdir / "peers"
        peers_bin, versions = install_peers(peers, ours_bin / "python")
        for name in names.values():
            sql(peers_bin / "python", server, f"CREATE DATABASE {name}")
        try:
            envs = {stack: seed_ours(project, names[stack]) for stack, project in projects.items()}
            envs["FastAPI"] = clean_env(
                PEER_SECRET_KEY=SECRET,
                PEER_DATABASE_URL=database["FastAPI"].replace(
                    "postgresql:", "postgresql+psycopg:", 1
                ),
            )
            envs["DRF"] = clean_env(
                PEER_SECRET_KEY=SECRET,
                PEER_DATABASE_URL=database["DRF"],
                DJANGO_SETTINGS_MODULE="peer_drf.settings",
            )
            seeded = {
                "FastAPI": seed_peer(
                    peers_bin,
                    peers,
                    envs["FastAPI"],
                    "-c",
                    f"import peer_fastapi; peer_fastapi.seed({ROWS})",
                ),
                "DRF": seed_peer(peers_bin, peers, envs["DRF"], "-m", "peer_drf.seed", str(ROWS)),
            }
            url: dict[str, str] = {}

            def started(name: str, process_and_base: tuple[subprocess.Popen[bytes], str]) -> None:
                running.append(process_and_base[0])
                url[name] = process_and_base[1]

            for stack, project in projects.items():
                bin_dir = project / ".venv" / "bin"
                app = "my_service:create_app()"
                started(
                    stack, gunicorn(bin_dir, app, project, envs[stack], "/readyz", own_config=True)
                )
            started(
                "Flask ceiling",
                gunicorn(ours_bin, "ceiling_app:app", projects["ours"], clean_env(), "/post"),
            )
            started(
                "FastAPI",
                fastapi(
                    peers_bin, "peer_fastapi.py", peers, envs["FastAPI"], "/api/v1/openapi.json"
                ),
            )
            started(
                "FastAPI ceiling",
                fastapi(peers_bin, "ceiling_fastapi.py", peers, clean_env(), "/post"),
            )
            started(
                "DRF",
                gunicorn(peers_bin, "peer_drf.wsgi", peers, envs["DRF"], "/api/items/", accept=403),
            )
            ceiling_env = clean_env(PEER_SECRET_KEY=SECRET)
            started(
                "DRF ceiling", gunicorn(peers_bin, "peer_drf.ceiling", peers, ceiling_env, "/post")
            )
            scripts = workdir / "scripts"
            scripts.mkdir()
            loads = peer_loads(url, seeded, scripts)
            for stack in projects:
                token = login(port(url[stack]))
                name = stack.replace(" ", "-")
                for operation, load in our_loads(url[stack], token, scripts, name).items():
                    loads[stack, operation] = load

            def run(key: tuple[str, str], seconds: int) -> dict[str, float]:
                load = loads[key]
                figures = once(load.url, seconds, load.script)
                if load.reset:
                    sql(peers_bin / "python", database[key[0]], load.reset)
                return figures

            cpu_before = reference(ours_bin / "python")
            for key in loads:
                run(key, WARM_UP)
            for round_ in range(args.rounds):
                for operation in (*OPERATIONS, PUBLIC_READ):
                    shift = round_ % len(stacks)
                    for stack in stacks[shift:] + stacks[:shift]:
                        if (stack, operation) in loads:
                            loads[stack, operation].runs.append(
                                run((stack, operation), args.seconds)
                            )
            cpu_after = reference(ours_bin / "python")
            python = interpreter(ours_bin)
        finally:
            for process in running:
                stop(process)
            for name in names.values():
                sql(peers_bin / "python", server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    figures = {
        key: {
            measure: median([run[measure] for run in load.runs])
            for measure in ("rps", "p50", "p99")
        }
        for key, load in loads.items()
    }

    def ratios(a: tuple[str, str], b: tuple[str, str]) -> list[float]:
        return [x["rps"] / y["rps"] for x, y in zip(loads[a].runs, loads[b].runs, strict=True)]

    rows = [
        f"One PostgreSQL server; each stack with {WORKERS} workers on 127.0.0.1, as it ships: "
        "ours under gunicorn with its gunicorn.conf.py (gevent workers, production "
        "configuration: JSON access log, metrics, rate limiter, request ids, security "
        "headers); the FastAPI peer (bench/peer_fastapi.py, the full-stack template's "
        "backend: JWT, caller lookup, SQLModel) under `fastapi run --workers 2` (uvicorn); "
        "the DRF peer (bench/peer_drf/, cookiecutter-django's API: ModelViewSet, token "
        "authentication, ATOMIC_REQUESTS) under gunicorn's sync workers. Constant JSON: bare "
        "Flask under gunicorn (sync), bare FastAPI (`async def`) under `fastapi run`, bare "
        "Django (no middleware) under gunicorn (sync). wrk, 2 threads, 8 connections, on the "
        f"same machine. A {WARM_UP} s warm-up of every load, then {args.rounds} interleaved "
        f"rounds of {args.seconds} s per load (the stacks' order rotating each round); "
        f"figures are medians over the rounds. {ROWS} rows seeded per stack; the rows a "
        "create run adds are deleted after it."
        + (
            f" 'ours before': the default project of the template at {args.before}."
            if args.before
            else ""
        ),
        "",
        "| operation | stack | requests/s | p50 | p99 | ours ÷ this, per round |",
        "|---|---|---|---|---|---|",
    ]
    for operation in (*OPERATIONS, PUBLIC_READ):
        for stack in stacks:
            if (stack, operation) not in loads:
                continue
            each = ", ".join(f"{r:.2f}" for r in ratios(("ours", operation), (stack, operation)))
            if stack == "ours":
                each = ""
            if operation == PUBLIC_READ:
                shares = ratios((stack, PUBLIC_READ), ("ours", CONSTANT))
                each = "share of bare Flask: " + ", ".join(f"{share:.0%}" for share in shares)
            rows.append(
                f"| {operation} | {label(stack, operation)} | {cells(figures[stack, operation])} "
                f"| {each} |"
            )
    rows += [
        "",
        "![requests/s per operation per stack, p99 beside each bar](peers.svg)",
        "",
        reference_line(cpu_before, cpu_after, "the rounds"),
        "",
        f"{python} Peers: {versions}.",
    ]
    SVG.write_text(chart(figures, stacks))
    record("Peers", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
