"""Benchmark: `copier copy` and `copier update` wall time from the command line.

Medians of RUNS runs, defaults answered (--defaults), template at HEAD. The
update runs in a committed git project, as users run it.
Usage: `uv run python bench/copier_speed.py`.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from common import ROOT, clean_env, median, record, timed, tool

RUNS = 5
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def main() -> int:
    copies, updates = [], []
    env = clean_env()
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS):
            project = Path(tmp) / f"project-{run}"
            copy = [tool("copier"), "copy", "--quiet", "--trust", "--defaults", "--vcs-ref", "HEAD"]
            seconds, _ = timed([*copy, str(ROOT), str(project)], Path(tmp), env)
            copies.append(seconds)
            subprocess.run([*GIT, "init", "-q"], cwd=project, check=True)
            subprocess.run([*GIT, "add", "-A"], cwd=project, check=True)
            subprocess.run([*GIT, "commit", "-qm", "generated"], cwd=project, check=True)
            update = [tool("copier"), "update", "--quiet", "--trust", "--defaults"]
            seconds, _ = timed([*update, "--vcs-ref", "HEAD"], project, env)
            updates.append(seconds)
    rows = [
        f"Medians of {RUNS} runs, default answers, from the command line.",
        "",
        "| command | wall time |",
        "|---|---|",
        f"| `copier copy --trust --defaults` | {median(copies):.2f} s |",
        f"| `copier update --trust --defaults` (committed project) | {median(updates):.2f} s |",
    ]
    record("copier", rows)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
