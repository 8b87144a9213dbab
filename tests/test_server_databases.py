"""A project rendered by the copier command line passes its suite on each real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from .matrix import ROOT, matrix_defaults
from .test_questions import copier_copy
from .tools import python_for, require_server, run_suite


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_a_command_line_render_passes_on_the_real_server(
    database: str,
    database_servers: dict[str, str | None],
    suite_environments: Path,
    tmp_path: Path,
) -> None:
    server = require_server(database, database_servers)
    python = python_for(matrix_defaults()["min_python"])
    project = tmp_path / f"on-{database}"

    code, output = copier_copy(project, "--defaults", "--data", f"database={database}")
    assert code == 0, output

    output = run_suite(project, python, server, "-rA", environments=suite_environments).output
    # The migrations test (empty -> head -> base -> head) and the drift check ran and passed.
    for test in (
        "test_downgrade_to_base_and_upgrade_again",
        "test_models_and_migrations_do_not_drift",
    ):
        assert f"PASSED tests/integration/test_migrations.py::{test}" in output
    assert str(ROOT) in (project / ".copier-answers.yml").read_text()
