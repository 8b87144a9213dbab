"""Benchmark: the two per-combination costs of the matrix, each the old way and the new.

1. A render through copier's API: from the git repository (copier clones it for every
   render), from a plain-folder snapshot of the working tree, from the snapshot with
   git off PATH (tests/renders.py: copier then stops asking git about the destination's
   core.fileMode for every file), and that with each Jinja template compiled once
   (tests/renders.py, jinja_compiled_once). RENDERS combinations, each rendered the four
   ways in turn.
2. `mypy --strict` over a generated project: with a cache of its own (each tree cold)
   and with one cache shared by every tree a worker checks (tests/test_matrix.py). The
   same TREES distinct projects, each installed once; per tree, a cold run and a run on
   the shared cache, alternating (the shared cache has seen the trees before it only).
Usage: `uv run python bench/matrix_parts.py`.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from common import median, record, timed, tool
from copier import run_copy

from tests.matrix import ROOT, all_combinations, suite_groups
from tests.renders import jinja_compiled_once, snapshot, without_git
from tests.tools import clean_environment

RENDERS = 12
TREES: list[dict[str, object]] = [
    {"database": "sqlite"},
    {"database": "postgresql", "error_schema": "problem"},
    {"database": "mysql", "auth": "none"},
    {"database": "sqlite", "factories": "plain", "auth": "none"},
]


def render(
    source: Path,
    destination: Path,
    data: dict[str, object],
    git: bool,
    hide_git: bool = False,
    compile_once: bool = False,
) -> float:
    started = time.perf_counter()
    with (
        without_git() if hide_git else nullcontext(),
        jinja_compiled_once() if compile_once else nullcontext(),
    ):
        run_copy(
            src_path=str(source),
            dst_path=destination,
            data=data,
            defaults=True,
            unsafe=True,
            quiet=True,
            skip_tasks=True,
            vcs_ref="HEAD" if git else None,
        )
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = snapshot(work / "template")
        combos = all_combinations()
        step = max(1, len(combos) // RENDERS)
        cloned, plain, hidden, once = [], [], [], []
        for index, combo in enumerate(combos[::step][:RENDERS]):
            cloned.append(render(ROOT, work / f"git-{index}", combo.data, git=True))
            plain.append(render(template, work / f"plain-{index}", combo.data, git=False))
            hidden.append(
                render(template, work / f"hidden-{index}", combo.data, git=False, hide_git=True)
            )
            once.append(
                render(
                    template,
                    work / f"once-{index}",
                    combo.data,
                    git=False,
                    hide_git=True,
                    compile_once=True,
                )
            )

        env = clean_environment()
        shared = work / "shared-cache"
        cold, warm = [], []
        for index, answers in enumerate(TREES):
            project = work / f"tree-{index}"
            render(template, project, answers, git=False)
            subprocess.run([tool("uv"), "sync", "--quiet"], cwd=project, env=env, check=True)
            mypy = str(project / ".venv/bin/mypy")
            seconds, _ = timed([mypy, "--cache-dir", str(work / f"own-{index}")], project, env)
            cold.append(seconds)
            seconds, _ = timed([mypy, "--cache-dir", str(shared)], project, env)
            warm.append(seconds)

    per_render = median(cloned) - median(once)
    trees = len(suite_groups(combos))
    rows = [
        f"Renders: {len(cloned)} combinations spread over the matrix, each rendered the four "
        "ways in turn (the first render compiling once fills the cache; the median hides it). "
        f"mypy: {len(TREES)} distinct default-ish projects (SQLite, PostgreSQL "
        "with problem+json, MySQL without auth, SQLite with plain builders), each installed "
        "once; per tree a run with a cache of its own (cold) and a run on the shared cache, "
        "alternating. The first tree's shared run has nothing to share yet.",
        "",
        "| part | old way | new way | saved per item |",
        "|---|---|---|---|",
        f"| render (median) | {median(cloned):.2f} s (git clone) "
        f"| {median(plain):.2f} s (snapshot), {median(hidden):.2f} s (snapshot, git off PATH), "
        f"{median(once):.2f} s (and Jinja compiled once) | {per_render:.2f} s |",
        f"| mypy --strict per tree, trees 2-{len(TREES)} (median) "
        f"| {median(cold[1:]):.1f} s (own cache) | {median(warm[1:]):.1f} s (shared cache) "
        f"| {median(cold[1:]) - median(warm[1:]):.1f} s |",
        f"| mypy --strict, first tree | {cold[0]:.1f} s | {warm[0]:.1f} s | - |",
        "",
        f"Over the matrix's {len(combos)} renders: about {per_render * len(combos):.0f} s of "
        f"CPU saved; over {trees} trees, about "
        f"{(median(cold[1:]) - median(warm[1:])) * (trees - 1):.0f} s (2 workers share them).",
    ]
    record("Matrix parts, before and after", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
