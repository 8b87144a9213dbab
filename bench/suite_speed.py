"""Benchmark: the generated suite's speed, and what per-test rollback buys.

For the default project on SQLite, PostgreSQL and MySQL:
1. the suite as shipped (`pytest`, coverage on): wall time and per-test time;
2. in the same run, the same tests without coverage, isolated two ways: our
   outer transaction + SAVEPOINT rollback, and the drop_all/create_all per test
   that most tutorials show. Medians of RUNS interleaved runs each; per test,
   the set-up + tear-down time (the fixtures, isolation included) apart from
   the test bodies.
Usage: `uv run python bench/suite_speed.py [databases...]`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import (
    SERVER_URLS,
    clean_env,
    install,
    interpreter,
    median,
    record,
    reference,
    render,
    timed,
)

RUNS = 3
HERE = Path(__file__).resolve().parent
PASSED = re.compile(r"(\d+) passed(?:, \d+ deselected)? in ([\d.]+)s")
# Migration tests run DDL of their own; both isolation styles leave them out.
# Tests that hold only under the suite's own isolation (the app writing inside the test's
# transaction, statements captured on it) or that the drop_all copy's apps built inside a
# test cannot pass (their login-limit store answers 503): left out on both sides.
ONLY_UNDER_ROLLBACK = (
    "tests/integration/test_isolation.py::test_the_app_writes_inside_the_tests_transaction",
    "tests/integration/test_posts_api.py::test_a_new_post_is_answered_without_reading_it_back",
    "tests/integration/test_posts_api.py::test_a_changed_post_is_answered_without_reading_it_back",
    "tests/integration/test_auth_api.py::test_the_client_address_comes_through_trusted_proxies_only",
    "tests/integration/test_auth_api.py::test_one_account_is_limited_whatever_address_the_attempts_come_from",
)
SAME_TESTS = [
    "--ignore=tests/integration/test_migrations.py",
    *(f"--deselect={test}" for test in ONLY_UNDER_ROLLBACK),
    "--no-cov",
    "-p",
    "no:cacheprovider",
]

DROP_ALL_APP_SESSION = '''@pytest.fixture
def db_session(app: Flask) -> Iterator[scoped_session]:
    """Per-test isolation by creating and dropping every table."""
    with app.app_context():
        db.create_all()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.drop_all()


'''

DROP_ALL_UNIT_SESSION = '''@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """Per-test isolation by creating and dropping every table."""
    with app.app_context():
        engine = db.engine
    db.metadata.create_all(engine)
    session = Session(bind=engine)
    try:
        yield session
    finally:
        session.close()
        db.metadata.drop_all(engine)


'''


def replace_fixture(path: Path, name: str, replacement: str) -> None:
    text = path.read_text()
    start = text.index(f"@pytest.fixture\ndef {name}(")
    end = text.index("@pytest.fixture", start + 1)
    path.write_text(text[:start] + replacement + text[end:])


def drop_all_copy(project: Path, destination: Path) -> Path:
    shutil.copytree(project, destination, symlinks=True)
    replace_fixture(destination / "tests/conftest.py", "db_session", DROP_ALL_APP_SESSION)
    replace_fixture(destination / "tests/unit/conftest.py", "session", DROP_ALL_UNIT_SESSION)
    # Apps built inside a test need the tables too.
    conftest = destination / "tests/conftest.py"
    conftest.write_text(
        conftest.read_text().replace(
            "def make_app(database_url: str)",
            "def make_app(database_url: str, db_session: scoped_session)",
        )
    )
    return destination


@dataclass
class Run:
    wall: float
    # pytest's own figure: the session without interpreter start-up and plugin imports.
    reported: float
    tests: int
    # Means over the tests that isolate through the database (all but the
    # property-based module, whose cost is the same either way):
    per_test: float  # set-up + call + tear-down
    overhead: float  # set-up + tear-down: the fixtures, isolation included


def run_suite(project: Path, env: dict[str, str], args: list[str]) -> Run:
    shutil.copy(HERE / "pytest_phases.py", project / "bench_phases.py")
    report = project / "phases.json"
    command = [str(project / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "bench_phases"]
    seconds, output = timed([*command, *args], project, env | {"BENCH_PHASES": str(report)})
    found = PASSED.search(output)
    if found is None:
        raise RuntimeError(output[-2000:])
    tests = [
        times
        for nodeid, times in json.loads(report.read_text()).items()
        if "openapi_properties" not in nodeid
    ]
    per_test = sum(sum(times.values()) for times in tests) / len(tests)
    overhead = sum(times["setup"] + times["teardown"] for times in tests) / len(tests)
    return Run(seconds, float(found[2]), int(found[1]), per_test, overhead)


def measure(database: str, workdir: Path) -> list[str]:
    project = render(workdir / database, database=database)
    install(project)
    env = clean_env()
    if database in SERVER_URLS:
        env["TEST_DATABASE_URL"] = SERVER_URLS[database]
    baseline = drop_all_copy(project, workdir / f"{database}-drop-all")

    # Interleaved, so a drift in the machine's speed touches all three alike.
    shipped, ours, theirs = [], [], []
    for _ in range(RUNS):
        shipped.append(run_suite(project, env, ["-p", "no:cacheprovider"]))
        ours.append(run_suite(project, env, SAME_TESTS))
        theirs.append(run_suite(baseline, env, SAME_TESTS))

    assert theirs[0].tests == ours[0].tests, "both isolation styles must run the same tests"

    def mid(runs: list[Run], figure: str, scale: float = 1.0) -> float:
        return median([getattr(run, figure) for run in runs]) * scale

    ours_wall, theirs_wall = mid(ours, "wall"), mid(theirs, "wall")
    ours_test, theirs_test = mid(ours, "per_test", 1000), mid(theirs, "per_test", 1000)
    ours_fix, theirs_fix = mid(ours, "overhead", 1000), mid(theirs, "overhead", 1000)
    return [
        f"| {database} | {shipped[0].tests} "
        f"| {mid(shipped, 'wall'):.2f} s ({mid(shipped, 'reported'):.2f} s) "
        f"| {ours_wall:.2f} s / {theirs_wall:.2f} s "
        f"| {ours_test:.2f} / {theirs_test:.2f} ms "
        f"| {ours_fix:.2f} / {theirs_fix:.2f} ms "
        f"| {theirs_wall / ours_wall:.1f}x | {theirs_test / ours_test:.1f}x "
        f"| {theirs_fix / ours_fix:.1f}x |"
    ]


def main() -> int:
    databases = sys.argv[1:] or ["sqlite", "postgresql", "mysql"]
    rows = [
        f"Default project (token auth, envelope errors, factory_boy). Medians of {RUNS} "
        "interleaved runs. Wall: `python -m pytest` from start to exit, with interpreter "
        "start-up and imports; in brackets, the time pytest itself reports (its session, "
        "without start-up). The comparison runs the same tests without coverage, isolated "
        "by our outer transaction + SAVEPOINT rollback, then by drop_all/create_all around "
        "each test. Per test: mean set-up + call + tear-down; set-up + tear-down: the "
        "fixtures alone, where the isolation is (both without the property-based module, "
        "the same in both).",
        "",
        "| database | tests | suite as shipped, coverage on: wall (pytest) "
        "| wall: rollback / drop_all | per test: rollback / drop_all "
        "| set-up + tear-down per test: rollback / drop_all "
        "| speed-up, wall | speed-up, per test | speed-up, set-up + tear-down |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for database in databases:
            rows += measure(database, Path(tmp))
            print(rows[-1], flush=True)
        bin_dir = Path(tmp) / databases[0] / ".venv" / "bin"
        rows += [
            "",
            f"Reference workload (`REFERENCE` in bench/common.py, best of 3) after the runs: "
            f"{reference(bin_dir / 'python'):.3f} s.",
            "",
            interpreter(bin_dir),
        ]
    record("Generated suite speed", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
