"""Fixtures and options for the template's own tests.

The matrix (every combination of the choice and bool questions in copier.yml)
is rendered once per session (tests/renders.py). Tests of one suite group run on
one xdist worker (``--dist loadgroup``), so each combination renders once.

Options:
  --quick        defaults plus one combination per non-default choice (fast loop)
  --shard I/N    run the I-th of N slices of the matrix (for parallel CI machines)
  --keep         keep rendered projects (their paths are printed on failure)
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from .matrix import Combination, SuiteGroup, groups_of_shard, selected_combinations, suite_groups
from .releases import version_of
from .renders import Renders
from .tools import SERVER_URLS, server_reachable

MATRIX_FIXTURES = {"combination", "group"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("template matrix")
    group.addoption("--quick", action="store_true", help="defaults plus one per choice value")
    group.addoption("--shard", default="1/1", help="run slice I of N of the matrix, as I/N")
    group.addoption("--keep", action="store_true", help="keep the rendered projects")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("keep"):
        config.option.keep_copied_projects = True
    match = re.fullmatch(r"(\d+)/(\d+)", config.getoption("shard"))
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise pytest.UsageError("--shard takes I/N with 1 <= I <= N, e.g. --shard 2/4")
    config.shard = (int(match[1]), int(match[2]))  # type: ignore[attr-defined]


def shard_groups(config: pytest.Config) -> list[SuiteGroup]:
    index, count = config.shard  # type: ignore[attr-defined]
    return groups_of_shard(suite_groups(selected_combinations(config)), index, count)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    groups = shard_groups(metafunc.config)
    if "combination" in metafunc.fixturenames:
        params = [
            pytest.param(combo, id=combo.id, marks=pytest.mark.xdist_group(group.id))
            for group in groups
            for combo in group.members
        ]
        metafunc.parametrize("combination", params)
    if "group" in metafunc.fixturenames:
        params = [
            pytest.param(group, id=group.id, marks=pytest.mark.xdist_group(group.id))
            for group in groups
        ]
        metafunc.parametrize("group", params)


# Modules of long single tests, in this order, before the rest (which keeps its order).
# xdist hands out the units of work with the most tests first (matrix groups), and units
# of one size (single tests) in collection order: long ones first, so that the run does
# not end with one worker on a minute-long update while the other idles.
LONGEST_FIRST = (
    "test_upgrades.py",
    "test_feature_toggles.py",
    "test_update.py",
    "test_dependency_bounds.py",
)


def longest_first(item: pytest.Item) -> int:
    module = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest work first; tests outside the matrix run on the first shard only."""
    items.sort(key=longest_first)
    if config.shard[0] == 1:  # type: ignore[attr-defined]
        return
    keep = [item for item in items if MATRIX_FIXTURES & set(getattr(item, "fixturenames", ()))]
    deselected = [item for item in items if item not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep


@pytest.fixture(scope="session")
def renders(copie_session: Any) -> Renders:
    return Renders(copie_session)


@pytest.fixture
def project(combination: Combination, renders: Renders, record_property: Any) -> Path:
    """This test's rendered combination; the test that renders it records how long it took."""
    fresh = combination.id not in renders.projects
    path = renders.get(combination)
    if fresh:
        seconds = renders.seconds[combination.id]
        record_property("matrix_render", json.dumps({"id": combination.id, "seconds": seconds}))
    return path


@pytest.fixture(scope="session")
def check_cache() -> dict[tuple[str, str], Any]:
    """Results of deterministic checks keyed by (check, content hash), shared by a worker."""
    return {}


@pytest.fixture(scope="session")
def suite_environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker installs and byte-compiles the generated suites it runs."""
    return tmp_path_factory.getbasetemp() / "suite-environments"


@pytest.fixture(scope="session")
def database_servers() -> dict[str, str | None]:
    """Reachable servers by database; None where the server does not answer."""
    return {name: url if server_reachable(url) else None for name, url in SERVER_URLS.items()}


# -- figures for the closing summary ------------------------------------------------------

FIGURES: dict[str, list[Any]] = defaultdict(list)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name.startswith("matrix_") or name == "upgrade":
            FIGURES[name].append(json.loads(value) if isinstance(value, str) else value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    matrix_summary(terminalreporter)
    upgrade_table(terminalreporter)


def upgrade_table(terminalreporter: Any) -> None:
    """Releases x combinations: conflicts an update to this checkout left (test_upgrades)."""
    upgrades = FIGURES.get("upgrade", [])
    if not upgrades:
        return
    releases = sorted({entry["release"] for entry in upgrades}, key=version_of)
    combinations = sorted({entry["combination"] for entry in upgrades})
    counts = {(e["release"], e["combination"]): len(e["conflicts"]) for e in upgrades}
    width = max(map(len, combinations))
    terminalreporter.section("updates from every release: conflicts per project")
    write = terminalreporter.write_line
    write(" " * 8 + "  ".join(name.ljust(width) for name in combinations))
    for release in releases:
        cells = (str(counts.get((release, name), "-")).ljust(width) for name in combinations)
        write(release.ljust(8) + "  ".join(cells))
    for entry in sorted(upgrades, key=lambda e: (version_of(e["release"]), e["combination"])):
        if entry["conflicts"]:
            files = ", ".join(entry["conflicts"])
            write(f"{entry['release']} {entry['combination']}: {files}")


def matrix_summary(terminalreporter: Any) -> None:
    checked = FIGURES.get("matrix_checked", [])
    rendered = FIGURES.get("matrix_render", [])
    suites = FIGURES.get("matrix_suite", [])
    if not checked and not suites:
        return
    write = terminalreporter.write_line
    terminalreporter.section("template matrix")
    write(f"combinations rendered and checked: {len(checked)}")
    if rendered:
        seconds = sorted(entry["seconds"] for entry in rendered)
        write(f"median render time: {seconds[len(seconds) // 2]:.2f} s")
    write(f"distinct generated suites run: {len(suites)}")
    by_database: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for suite in suites:
        by_database[suite["database"]].append(suite)
    for database, runs in sorted(by_database.items()):
        tests = sum(run["passed"] for run in runs)
        seconds = sum(run["seconds"] for run in runs)
        typing = sum(run.get("type_check_seconds", 0) for run in runs)
        write(
            f"  {database}: {len(runs)} suites, {tests} tests passed, "
            f"{seconds:.0f} s (install + run), mypy --strict {typing:.0f} s"
        )
