"""Benchmark: the generated suite's speed, and what per-test rollback buys.

For the default project on SQLite, PostgreSQL and MySQL:
1. the suite as shipped (`pytest`, coverage on): wall time and per-test time;
2. in the same run, the same tests without coverage, isolated two ways: our
   outer transaction + SAVEPOINT rollback, and the drop_all/create_all per test
   that most tutorials show. Medians of RUNS runs each.
Usage: `uv run python bench/suite_speed.py [databases...]`.
"""

from __future__ import annotations

import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from common import SERVERS, clean_env, install, interpreter, median, record, render, timed

RUNS = 3
PASSED = re.compile(r"(\d+) passed")
# Migration tests run DDL of their own; both isolation styles leave them out.
SAME_TESTS = ["--ignore=tests/integration/test_migrations.py", "--no-cov", "-p", "no:cacheprovider"]

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
    import shutil

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
    tests: int
    # Setup + call + teardown of the tests that isolate through the database
    # (all but the property-based module, whose cost is the same either way).
    per_test: float


def run_suite(project: Path, env: dict[str, str], args: list[str]) -> Run:
    report = project / "junit.xml"
    command = [str(project / ".venv/bin/python"), "-m", "pytest", "-q", f"--junitxml={report}"]
    seconds, output = timed([*command, *args], project, env)
    found = PASSED.search(output)
    if found is None:
        raise RuntimeError(output[-2000:])
    cases = [
        float(case.get("time", 0))
        for case in ET.parse(report).getroot().iter("testcase")
        if "openapi_properties" not in case.get("classname", "")
    ]
    return Run(seconds, int(found[1]), sum(cases) / len(cases))


def measure(database: str, workdir: Path) -> list[str]:
    project = render(workdir / database, database=database)
    install(project)
    env = clean_env()
    if database in SERVERS:
        env["TEST_DATABASE_URL"] = SERVERS[database]
    baseline = drop_all_copy(project, workdir / f"{database}-drop-all")

    shipped = [run_suite(project, env, ["-p", "no:cacheprovider"]) for _ in range(RUNS)]
    ours = [run_suite(project, env, SAME_TESTS) for _ in range(RUNS)]
    theirs = [run_suite(baseline, env, SAME_TESTS) for _ in range(RUNS)]

    assert theirs[0].tests == ours[0].tests, "both isolation styles must run the same tests"
    ours_wall, theirs_wall = median([r.wall for r in ours]), median([r.wall for r in theirs])
    ours_test = median([r.per_test for r in ours]) * 1000
    theirs_test = median([r.per_test for r in theirs]) * 1000
    return [
        f"| {database} | {shipped[0].tests} | {median([r.wall for r in shipped]):.2f} s "
        f"| {ours_wall:.2f} s, {ours_test:.2f} ms/test "
        f"| {theirs_wall:.2f} s, {theirs_test:.2f} ms/test "
        f"| {theirs_wall / ours_wall:.1f}x | {theirs_test / ours_test:.1f}x |"
    ]


def main() -> int:
    databases = sys.argv[1:] or ["sqlite", "postgresql", "mysql"]
    rows = [
        f"Default project (token auth, envelope errors, factory_boy). Medians of {RUNS} runs. "
        "Wall: `python -m pytest` including interpreter start-up and imports (about 3 s here). "
        "Per test: mean setup + call + teardown from pytest's junit report, without the "
        "property-based module (the same in both).",
        "",
        "| database | tests | suite as shipped (coverage on) | same tests, SAVEPOINT rollback "
        "(no coverage) | same tests, drop_all/create_all per test | speed-up, wall "
        "| speed-up, per test |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for database in databases:
            rows += measure(database, Path(tmp))
            print(rows[-1], flush=True)
        rows += ["", interpreter(Path(tmp) / databases[0] / ".venv" / "bin")]
    record("Generated suite speed", rows)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
