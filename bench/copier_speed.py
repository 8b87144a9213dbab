"""Benchmark: `copier copy` and `copier update` wall time from the command line.

Medians of RUNS runs. In a private git copy of the template, release v1.0.0 is
this checkout and v1.1.0 adds a file and changes two others. `copy` renders
v1.0.0 with the default answers; `update` takes that project, committed to git
with an owner's edit, to v1.1.0, as users run it.
Usage: `uv run python bench/copier_speed.py`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, clean_env, median, record, timed, tool

sys.path.insert(0, str(ROOT))

from tests.releases import GIT, commit_all, new_template_repo, replace_once

RUNS = 5


def main() -> int:
    copies, updates = [], []
    env = clean_env()
    with tempfile.TemporaryDirectory() as tmp:
        template = new_template_repo(Path(tmp) / "template")
        template.release("v1.0.0", "Release 1.0.0")
        copy = [tool("copier"), "copy", "--quiet", "--trust", "--defaults", "--vcs-ref", "v1.0.0"]
        projects = []
        for run in range(RUNS):
            project = Path(tmp) / f"project-{run}"
            seconds, _ = timed([*copy, str(template.path), str(project)], Path(tmp), env)
            copies.append(seconds)
            subprocess.run([*GIT, "init", "-q"], cwd=project, check=True)
            replace_once(project / "README.md", "A Flask JSON API service.", "Our service.")
            commit_all(project, "generated, then described")
            projects.append(project)
        (template.file("template/RUNBOOK.md")).write_text("# Runbook\n")
        readme = template.file("template/README.md.jinja")
        readme.write_text(readme.read_text() + "\n## Support\n\nAsk the owners.\n")
        template.release("v1.1.0", "Release 1.1.0")
        update = [tool("copier"), "update", "--quiet", "--trust", "--defaults"]
        for project in projects:
            seconds, _ = timed(update, project, env)
            updates.append(seconds)
            assert (project / "RUNBOOK.md").exists(), "the update did not arrive"
    rows = [
        f"Medians of {RUNS} runs, default answers, from the command line.",
        "",
        "| command | wall time |",
        "|---|---|",
        f"| `copier copy --trust --defaults` (release v1.0.0) | {median(copies):.2f} s |",
        f"| `copier update --trust --defaults` (v1.0.0 to v1.1.0, edited project) "
        f"| {median(updates):.2f} s |",
    ]
    record("copier", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
