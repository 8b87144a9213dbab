"""Benchmark: the default suite's wall time as its user sees it, before and after a change.

For each database, the default project is rendered from two commits of this template
(BEFORE, default: the last release; and HEAD), installed the way its own Makefile's
`install` target does, and its suite run with `uv run pytest` from start to exit
(coverage on, as shipped). Each project is installed twice: once run with
PYTHONDONTWRITEBYTECODE=1 (as in many containers and CI images: nothing is ever
byte-compiled by a run) and once without (bytecode written as modules load). The first
run after the install is reported apart; then RUNS runs of every variant, interleaved,
so a drift in the machine's speed touches them alike.
Usage: `uv run python bench/suite_wall.py [--before REF] [databases...]`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    SERVER_URLS,
    head,
    last_release,
    make_install,
    median,
    record,
    render,
    timed,
    tool,
)

from tests.tools import clean_environment

RUNS = 3
PASSED = re.compile(r"(\d+) passed")


@dataclass
class Variant:
    label: str
    ref: str
    database: str
    bytecode_written: bool
    project: Path
    env: dict[str, str]
    install: str = ""
    first: float = 0.0
    tests: int = 0
    walls: list[float] = field(default_factory=list)

    def run(self) -> float:
        seconds, output = timed([tool("uv"), "run", "pytest", "-q"], self.project, self.env)
        passed = PASSED.search(output)
        assert passed is not None, output[-2000:]
        self.tests = int(passed[1])
        return seconds


def prepare(workdir: Path, label: str, ref: str, database: str) -> list[Variant]:
    source = render(workdir / f"{label}-{database}", ref, database=database)
    variants = []
    for written in (False, True):
        project = workdir / f"{label}-{database}-{'written' if written else 'dont-write'}"
        subprocess.run(["cp", "-r", str(source), str(project)], check=True)
        env = clean_environment()
        if not written:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        if database in SERVER_URLS:
            env["TEST_DATABASE_URL"] = SERVER_URLS[database]
        variant = Variant(label, ref, database, written, project, env)
        variant.install = make_install(project, env)
        variants.append(variant)
    return variants


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=None, help="git ref of the 'before' template")
    parser.add_argument("databases", nargs="*", default=["sqlite", "postgresql", "mysql"])
    args = parser.parse_args()
    before = args.before or last_release()
    after = head()
    with tempfile.TemporaryDirectory() as tmp:
        variants = [
            variant
            for database in args.databases
            for label, ref in (("before", before), ("after", "HEAD"))
            for variant in prepare(Path(tmp), label, ref, database)
        ]
        for variant in variants:
            variant.first = variant.run()
        for _ in range(RUNS):
            for variant in variants:
                variant.walls.append(variant.run())

        rows = [
            f"Default project (token auth, envelope errors, factory_boy), rendered from the "
            f"template before ({before}) and after ({after}) the change. Each project installed "
            "by its own `make install` recipe, then `uv run pytest` timed from start to exit, "
            "coverage on, as shipped: the first run after the install, then the median of "
            f"{RUNS} runs of every variant, interleaved. 'not written': "
            "PYTHONDONTWRITEBYTECODE=1, as in many containers and CI images.",
            "",
            "| database | bytecode | tests (before / after) | before: first run / median "
            "| after: first run / median | median after / before |",
            "|---|---|---|---|---|---|",
        ]
        for database in args.databases:
            for written in (False, True):
                old, new = (
                    next(
                        v
                        for v in variants
                        if (v.label, v.database, v.bytecode_written) == (label, database, written)
                    )
                    for label in ("before", "after")
                )
                rows.append(
                    f"| {database} | {'written' if written else 'not written'} "
                    f"| {old.tests} / {new.tests} "
                    f"| {old.first:.1f} s / {median(old.walls):.1f} s "
                    f"| {new.first:.1f} s / {median(new.walls):.1f} s "
                    f"| {median(new.walls) / median(old.walls):.2f} |"
                )
        installs = sorted({(v.label, v.install) for v in variants})
        rows += [
            "",
            "Install recipes: " + "; ".join(f"{label}: `{cmd}`" for label, cmd in installs),
        ]
    record("Generated suite wall time, before and after", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
