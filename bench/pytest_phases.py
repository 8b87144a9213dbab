"""pytest plugin for bench/suite_speed.py: each test's phase durations, as JSON.

Copied into the project under test and loaded with ``-p bench_phases``; writes
``{nodeid: {"setup": s, "call": s, "teardown": s}}`` to the file named by
BENCH_PHASES when the session ends.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

phases: defaultdict[str, dict[str, float]] = defaultdict(dict)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    phases[report.nodeid][report.when] = report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    Path(os.environ["BENCH_PHASES"]).write_text(json.dumps(phases))
