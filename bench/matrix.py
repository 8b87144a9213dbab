"""Benchmark: the full matrix's wall time and where it goes.

Runs the template's tests (every combination) once, then prints and records:
wall time, per-combination render and check times (medians), and per-suite
install and run times by database. Usage: `uv run python bench/matrix.py [pytest args]`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from common import ROOT, record, reference


def run_matrix(extra: list[str]) -> tuple[float, ET.Element, int]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "auto", "-q", f"--junitxml={report}", *extra],
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - started
        return wall, ET.parse(report).getroot(), done.returncode


def summarise(wall: float, root: ET.Element) -> list[str]:
    check_times: dict[str, list[float]] = defaultdict(list)
    renders: list[float] = []
    checked = 0
    suites: list[dict[str, object]] = []
    for case in root.iter("testcase"):
        name = case.get("name", "")
        seconds = float(case.get("time", 0))
        for prop in case.iter("property"):
            value = json.loads(prop.get("value", "{}"))
            if prop.get("name") == "matrix_render":
                renders.append(float(value["seconds"]))
                seconds -= float(value["seconds"])  # the render is reported on its own
            elif prop.get("name") == "matrix_checked":
                checked += 1
            elif prop.get("name") == "matrix_suite":
                suites.append(value)
        # Checks of one combination carry its id, which ends with the Python version.
        if case.get("classname", "").endswith("test_matrix") and "-py3." in name:
            check_times[name.split("[")[0]].append(seconds)
    lines = [
        f"- full matrix wall time: {wall:.0f} s ({wall / 60:.1f} min), "
        f"{os.cpu_count()} cores, `pytest -n auto`",
        f"- combinations rendered and checked: {checked}",
        f"- median render (copier copy): {statistics.median(renders):.2f} s" if renders else "",
        "- median time of each check of one combination (render excluded):",
    ]
    for check, times in sorted(check_times.items()):
        lines.append(f"  - `{check}`: {statistics.median(times) * 1000:.0f} ms")
    by_db: dict[str, list[dict[str, object]]] = defaultdict(list)
    for suite in suites:
        by_db[str(suite["database"])].append(suite)
    lines.append(f"- distinct generated suites: {len(suites)}")
    for database, runs in sorted(by_db.items()):
        suite_seconds = [float(str(run["seconds"])) for run in runs]
        tests = sum(int(str(run["passed"])) for run in runs)
        lines.append(
            f"  - {database}: {len(runs)} suites, {tests} tests, median install + run "
            f"{statistics.median(suite_seconds):.1f} s"
        )
    return [line for line in lines if line]


def main() -> int:
    before = reference()
    wall, root, code = run_matrix(sys.argv[1:])
    after = reference()
    lines = summarise(wall, root)
    lines.append(
        f"- reference workload (`REFERENCE` in bench/common.py, best of 3): {before:.3f} s "
        f"before the run, {after:.3f} s after"
    )
    print("\n".join(lines))
    if code == 0:
        record("Matrix cost", lines)
    else:
        print(f"pytest exited {code}: figures not recorded", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
