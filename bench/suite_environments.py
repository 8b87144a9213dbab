"""Benchmark: a generated suite in a fresh environment against one in a reused environment.

The matrix runs every distinct generated suite (tests/test_matrix.py): install the project,
run its suite, type-check it. The old way gave each suite a fresh `.venv`; the new way syncs
each suite into one environment per Python version that the worker keeps, so uv adds and
removes only what differs and the packages already there keep their compiled bytecode.

GROUPS suite groups spread over the matrix, each rendered once and run both ways in turn
(fresh, then reused; the first reused run starts from an empty environment). Each run:
`uv sync`, the suite as the matrix runs it, then mypy --strict on one cache shared by all
runs of a way. Needs the PostgreSQL and MySQL servers of tests/tools.py.
Usage: `uv run python bench/suite_environments.py`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from common import SERVER_URLS, median, record
from copier import run_copy

from tests.matrix import Combination, all_combinations, suite_groups
from tests.renders import snapshot
from tests.tools import clean_environment, install_project, python_for, run, run_suite

GROUPS = 8


def one_run(
    source: Path, work: Path, name: str, combo: Combination, environment: Path | None
) -> tuple[float, float, int]:
    """Install, suite and mypy of a copy of ``source``: (suite seconds, mypy seconds, tests)."""
    project = work / name
    shutil.copytree(source, project)
    server = None if combo["database"] == "sqlite" else SERVER_URLS[combo["database"]]
    python = python_for(combo["min_python"])
    suite = run_suite(project, python, server, environment=environment)
    started = time.perf_counter()
    cache = work / f"mypy-{'reused' if environment else 'fresh'}-{combo['min_python']}"
    typed = run(
        [str(suite.bin / "mypy"), "--cache-dir", str(cache)], cwd=project, env=clean_environment()
    )
    assert typed.returncode == 0, typed.stdout
    mypy_seconds = time.perf_counter() - started
    shutil.rmtree(project)
    return suite.seconds, mypy_seconds, suite.passed


def main() -> int:
    groups = suite_groups(all_combinations())
    # A step prime to the 3 Python versions and 2 task choices that rotate through the
    # groups, so the sample holds every database, Python version and task choice.
    step = 5
    chosen = groups[::step][:GROUPS]
    fresh: list[tuple[float, float, int]] = []
    reused: list[tuple[float, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = snapshot(work / "template")
        environments = work / "environments"
        for index, group in enumerate(chosen):
            combo = group.representative
            source = work / f"render-{index}"
            run_copy(
                src_path=str(template),
                dst_path=source,
                data=combo.data,
                defaults=True,
                unsafe=True,
                quiet=True,
                skip_tasks=True,
            )
            # uv's cache holds every package before the timed runs, as in a matrix run.
            warm_up = shutil.copytree(source, work / f"warm-up-{index}")
            install_project(warm_up, python_for(combo["min_python"]), clean_environment())
            fresh.append(one_run(source, work, f"fresh-{index}", combo, None))
            reused.append(
                one_run(source, work, f"reused-{index}", combo, environments / combo["min_python"])
            )
            print(group.id, combo["min_python"], fresh[-1], reused[-1], flush=True)

    def total(runs: list[tuple[float, float, int]]) -> float:
        return sum(suite + mypy for suite, mypy, _ in runs)

    saved = sum(
        median([run[part] for run in fresh]) - median([run[part] for run in reused])
        for part in (0, 1)
    )
    rows = [
        f"{len(chosen)} suite groups spread over the matrix ({', '.join(g.id for g in chosen)}), "
        "each rendered once, installed once untimed (uv's cache then holds its packages, as "
        "in a matrix run), then run both ways in turn: in a fresh `.venv` (old), and synced "
        "into the one environment per Python version that the worker reuses (new; the first "
        "run of each Python version starts empty). Suite: `uv sync` plus the suite as the "
        "matrix runs it (coverage on); mypy --strict on a cache shared by the runs of each way.",
        "",
        "| way | tests (all runs) | suite, median | mypy, median | all runs, total |",
        "|---|---|---|---|---|",
        *(
            f"| {way} | {sum(n for _, _, n in runs)} | {median([s for s, _, _ in runs]):.1f} s "
            f"| {median([m for _, m, _ in runs]):.1f} s | {total(runs):.0f} s |"
            for way, runs in (
                ("fresh environment (old)", fresh),
                ("reused environment (new)", reused),
            )
        ),
        "",
        f"Saved per suite, suite and mypy (medians): {saved:.1f} s; all runs, new / old: "
        f"{total(reused) / total(fresh):.2f}. Over the matrix's {len(groups)} suites: about "
        f"{saved * len(groups):.0f} s of CPU (2 workers share them).",
    ]
    record("Matrix suites: fresh or reused environments", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
