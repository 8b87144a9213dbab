"""Benchmark: matrix suites each in their own `.venv`, or sharing a worker's bytecode cache.

The matrix installs and runs each distinct generated suite (tests/test_matrix.py). The old
way: a fresh `.venv` inside each project, where every dependency module is compiled to
bytecode again as the suite imports it. The new way (`run_suite(environments=...)`): a
fresh environment at one path per Python version, reused by each suite of a test worker,
with bytecode written to a cache beside it (`PYTHONPYCACHEPREFIX`), so only what changed
since the worker's last suite is compiled. PER_DATABASE suite groups of each database, of
different Python versions and `tasks` choices, run in matrix order, each the two
ways in turn (which goes first alternates). Times are install + run, as the matrix
records them; the first suite of the new way starts with an empty cache, as a worker does.
Usage: `uv run python bench/suite_environments.py` (PostgreSQL, MariaDB and Redis up).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from common import SERVER_URLS, median, record

from tests.matrix import all_combinations, suite_groups
from tests.renders import jinja_compiled_once, render, snapshot, without_git
from tests.tools import python_for, run_suite

PER_DATABASE = 3


def main() -> int:
    groups = suite_groups(all_combinations())
    # In matrix order, per database the first groups of PER_DATABASE different Python
    # versions and task choices.
    kinds: dict[str, set[tuple[str, str]]] = {}
    chosen = []
    for group in groups:
        kind = (group.representative["min_python"], group.representative["tasks"])
        seen = kinds.setdefault(group.database, set())
        if kind not in seen and len(seen) < PER_DATABASE:
            seen.add(kind)
            chosen.append(group)
    own, shared = [], []
    rows_by_group = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = snapshot(work / "template")
        environments = work / "suite-environments"
        for index, group in enumerate(chosen):
            combo = group.representative
            source = work / f"render-{index}"
            with without_git(), jinja_compiled_once():
                render(template, source, combo)
            python = python_for(combo["min_python"])
            server = None if group.database == "sqlite" else SERVER_URLS[group.database]
            seconds: dict[str, float] = {}
            ways = ["own", "shared"] if index % 2 == 0 else ["shared", "own"]
            for way in ways:
                project = work / f"{way}-{index}"
                shutil.copytree(source, project)
                suite = run_suite(
                    project, python, server, environments=environments if way == "shared" else None
                )
                seconds[way] = suite.seconds
            own.append(seconds["own"])
            shared.append(seconds["shared"])
            rows_by_group.append(
                f"| {group.database}, Python {combo['min_python']}, tasks={combo['tasks']}, "
                f"auth={combo['auth']} | {suite.passed} | {seconds['own']:.1f} s "
                f"| {seconds['shared']:.1f} s | {seconds['shared'] / seconds['own']:.2f} |"
            )

    rows = [
        f"{len(chosen)} of the matrix's {len(groups)} suite groups ({PER_DATABASE} per database, "
        "of different Python versions and task choices), in matrix order; each suite "
        "installed and run (coverage on, as shipped) the two ways in turn, the first way "
        "alternating. Own `.venv`: a fresh environment in the project, every "
        "module compiled as it loads. Shared bytecode: a fresh environment at the worker's "
        "path for that Python, bytecode in a cache beside it (`PYTHONPYCACHEPREFIX`), as "
        "`tests/test_matrix.py` now runs them; its first suite starts with an empty cache.",
        "",
        "| suite group | tests | own `.venv` | shared bytecode | ratio |",
        "|---|---|---|---|---|",
        *rows_by_group,
        f"| **median** | | **{median(own):.1f} s** | **{median(shared):.1f} s** "
        f"| **{median(shared) / median(own):.2f}** |",
        f"| **total** | | {sum(own):.0f} s | {sum(shared):.0f} s | {sum(shared) / sum(own):.2f} |",
    ]
    record("Matrix suites: own environment or shared bytecode", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
