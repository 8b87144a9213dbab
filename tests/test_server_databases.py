"""A project rendered by the copier command line passes its suite on each real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import require_server
from .matrix import ROOT, matrix_defaults
from .test_questions import copier_copy
from .tools import PASSED, clean_environment, find_python, run, tool


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_a_command_line_render_passes_on_the_real_server(
    database: str, database_servers: dict[str, str | None], tmp_path: Path
) -> None:
    server = require_server(database, database_servers)
    python = find_python(matrix_defaults()["python_version"])
    assert python is not None, "no interpreter for the default python_version"
    project = tmp_path / f"on-{database}"

    code, output = copier_copy(project, "--defaults", "--data", f"database={database}")
    assert code == 0, output

    env = clean_environment() | {"TEST_DATABASE_URL": str(server)}
    sync = run([tool("uv"), "sync", "--quiet", "--python", python], cwd=project, env=env)
    assert sync.returncode == 0, sync.stderr
    suite = run(
        [str(project / ".venv/bin/python"), "-m", "pytest", "-q", "-rA"], cwd=project, env=env
    )
    output = suite.stdout + suite.stderr
    assert suite.returncode == 0, output[-4000:]
    assert PASSED.search(output)
    # The migrations test (empty -> head -> base -> head) and the drift check ran and passed.
    for test in (
        "test_downgrade_to_base_and_upgrade_again",
        "test_models_and_migrations_do_not_drift",
    ):
        assert f"PASSED tests/integration/test_migrations.py::{test}" in output
    assert str(ROOT) in (project / ".copier-answers.yml").read_text()
