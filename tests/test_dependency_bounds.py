"""A generated project's dependency bounds are proven: its suite passes on the lowest
versions its pyproject.toml allows (uv's ``--resolution lowest-direct``) and on the newest.

The generated CI runs the same two resolutions; the matrix suites run the newest only.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from .matrix import default_combination
from .renders import Renders
from .tools import clean_environment, python_for, require_server, run, tool


def floors(project: Path) -> dict[str, Version]:
    """The lowest version each direct runtime and test dependency allows."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    found = {}
    for line in [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["test"]]:
        requirement = Requirement(line)
        for spec in requirement.specifier:
            if spec.operator == ">=":
                found[requirement.name.lower()] = Version(spec.version)
    return found


def installed_versions(project: Path) -> dict[str, Version]:
    listed = run([tool("uv"), "pip", "list"], cwd=project, env=clean_environment())
    rows = [line.split()[:2] for line in listed.stdout.splitlines()[2:]]
    return {name.lower(): Version(version) for name, version in rows}


@pytest.mark.parametrize(
    ("database", "resolution", "tasks"),
    [
        ("sqlite", "lowest-direct", "none"),
        ("sqlite", "highest", "none"),
        ("postgresql", "lowest-direct", "none"),
        ("mysql", "lowest-direct", "none"),
        # Celery's floor, with its real worker test on a real Redis.
        ("postgresql", "lowest-direct", "celery"),
    ],
)
def test_the_suite_passes_at_each_end_of_the_dependency_bounds(
    database: str,
    resolution: str,
    tasks: str,
    renders: Renders,
    database_servers: dict[str, str | None],
    tmp_path: Path,
) -> None:
    combo = default_combination(database=database, tasks=tasks)
    server = require_server(database, database_servers)
    project = tmp_path / "project"
    shutil.copytree(renders.get(combo), project)
    env = clean_environment() | ({"TEST_DATABASE_URL": server} if server else {})
    python = python_for(combo["min_python"])

    sync = run(
        [tool("uv"), "sync", "--quiet", "--python", python, "--resolution", resolution],
        cwd=project,
        env=env,
    )
    assert sync.returncode == 0, sync.stderr
    versions = installed_versions(project)
    at_floor = {name for name, floor in floors(project).items() if versions[name] == floor}
    if resolution == "lowest-direct":
        assert at_floor == set(floors(project)), versions
    suite = run(
        [str(project / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        timeout=900,
    )

    output = suite.stdout + suite.stderr
    assert suite.returncode == 0, f"{resolution} {versions}\n{output[-6000:]}"
    assert " passed" in output
