"""This repository's own files: its CI workflow and the code outside the template."""

from __future__ import annotations

from .matrix import ROOT
from .tools import load_yaml, run, schema_errors, tool

WORKFLOW = ROOT / ".github/workflows/template.yml"


def test_the_template_workflow_validates_and_lints() -> None:
    assert schema_errors(load_yaml(WORKFLOW), "github-workflows") == []
    linted = run([tool("actionlint"), "-no-color", str(WORKFLOW)])
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_matrix_jobs_check_out_the_release_tags() -> None:
    """The update tests start from the previous release: they need tags and history."""
    jobs = load_yaml(WORKFLOW)["jobs"]
    checkouts = [
        step
        for job in jobs.values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/checkout") and "pytest" in str(job)
    ]

    assert checkouts
    assert all(step.get("with", {}).get("fetch-depth") == 0 for step in checkouts)


def test_the_repository_code_is_formatted_and_lint_clean() -> None:
    for command in (["format", "--check"], ["check"]):
        result = run(
            [tool("ruff"), *command, "extensions", "migrations", "tests", "bench"], cwd=ROOT
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_repository_code_type_checks_in_strict_mode() -> None:
    """mypy --strict over tests/, extensions/, bench/ and migrations/ (pyproject.toml)."""
    result = run([tool("mypy")], cwd=ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
