"""A template change's effect on the served default project, with the noise beside it.

Usage: uv run python bench/before_after.py BEFORE [--after REF] [--rounds N] [seconds]

Serves three copies of the default project (PostgreSQL, gunicorn with its own
gunicorn.conf.py, 2 workers each, each on a database of its own): one of the template at
BEFORE, one at --after (default HEAD) and a second one at BEFORE, the control. Each round
loads every operation of bench/peers.py on the three in turn (the order rotating and
reversing between rounds), wrk 2 threads x 8 connections. Two servers of the same code
differ by several percent on this machine; the control's ratio to BEFORE says how much,
so an after/before ratio is only read as a change where it exceeds it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from common import ROOT, install, record, reference, reference_line, render
from peers import PUBLIC_READ, Load, gunicorn, our_loads, port, seed_ours, sql
from throughput import WARM_UP, login, once

from tests.tools import SERVER_URLS

STACKS = ("before", "after", "control")


def ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    return [top / bottom for top, bottom in zip(numerators, denominators, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", help="git ref of the template before the change")
    parser.add_argument("--after", default="HEAD", help="git ref of the template after it")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("seconds", nargs="?", type=int, default=4, help="seconds per run")
    args = parser.parse_args()
    after_commit = subprocess.run(
        ["git", "rev-parse", "--short", args.after],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    refs = {"before": args.before, "after": after_commit, "control": args.before}
    server = SERVER_URLS["postgresql"].replace("+psycopg", "")
    base_url = server.rsplit("/", 1)[0]
    names = {stack: f"bench_ab_{stack}_{uuid.uuid4().hex[:8]}" for stack in STACKS}
    running: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        projects = {
            stack: install(render(workdir / stack, ref, database="postgresql")).parents[1]
            for stack, ref in refs.items()
        }
        python = projects["before"] / ".venv" / "bin" / "python"
        for name in names.values():
            sql(python, server, f"CREATE DATABASE {name}")
        try:
            loads: dict[str, dict[str, Load]] = {}
            scripts = workdir / "scripts"
            scripts.mkdir()
            for stack, project in projects.items():
                env = seed_ours(project, names[stack])
                app = "my_service:create_app()"
                process, url = gunicorn(
                    project / ".venv" / "bin", app, project, env, "/readyz", own_config=True
                )
                running.append(process)
                loads[stack] = our_loads(url, login(port(url)), scripts, stack)

            def run(stack: str, operation: str, seconds: int) -> float:
                load = loads[stack][operation]
                figures = once(load.url, seconds, load.script)
                if load.reset:
                    sql(python, f"{base_url}/{names[stack]}", load.reset)
                return figures["rps"]

            operations = list(loads["before"])
            cpu_before = reference(python)
            for stack in STACKS:
                for operation in operations:
                    run(stack, operation, WARM_UP)
            rps: dict[tuple[str, str], list[float]] = {
                (stack, operation): [] for stack in STACKS for operation in operations
            }
            for round_ in range(args.rounds):
                shift = round_ % len(STACKS)
                order = list(STACKS[shift:] + STACKS[:shift])
                for operation in operations:
                    for stack in order if round_ % 2 == 0 else order[::-1]:
                        rps[stack, operation].append(run(stack, operation, args.seconds))
            cpu_after = reference(python)
        finally:
            for process in running:
                process.terminate()
            for process in running:
                process.wait()
            for name in names.values():
                sql(python, server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    lines = [
        f"The default project (PostgreSQL, gunicorn as shipped, 2 workers) of the template at "
        f"{args.before} (before, and a second copy: the control) and at {after_commit} (after), "
        f"each on its own database; wrk 2 threads x 8 connections, {args.rounds} interleaved "
        f"rounds of {args.seconds} s per operation, the order rotating. Requests/s, medians "
        "over the rounds; ratios are medians of each round's ratio.",
        "",
        "| operation | before | after | control | after ÷ before | control ÷ before "
        "| after ÷ control | after ÷ before, per round |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for operation in operations:
        before, after, control = (rps[stack, operation] for stack in STACKS)
        label = "public read" if operation == PUBLIC_READ else operation
        lines.append(
            f"| {label} | {statistics.median(before):,.0f} | {statistics.median(after):,.0f} "
            f"| {statistics.median(control):,.0f} "
            f"| {statistics.median(ratios(after, before)):.2f} "
            f"| {statistics.median(ratios(control, before)):.2f} "
            f"| {statistics.median(ratios(after, control)):.2f} "
            f"| {', '.join(f'{ratio:.2f}' for ratio in ratios(after, before))} |"
        )
    lines += [
        "",
        reference_line(cpu_before, cpu_after, "the rounds"),
    ]
    record("Before and after", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
