"""This repository's own files: its CI workflow and the code outside the template."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .matrix import ROOT
from .releases import RELEASE_HEADING, git, recorded_releases
from .tools import load_yaml, run, schema_errors, tool

WORKFLOW = ROOT / ".github/workflows/template.yml"


def test_the_template_workflow_validates_and_lints() -> None:
    assert schema_errors(load_yaml(WORKFLOW), "github-workflows") == []
    linted = run([tool("actionlint"), "-no-color", str(WORKFLOW)])
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_matrix_jobs_check_out_the_release_tags() -> None:
    """The upgrade tests recreate every release from the history (tags are used if there)."""
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


def test_every_release_in_the_changelog_has_its_commit_in_this_history() -> None:
    """Releases read from CHANGELOG.md and the history alone (tags may be missing)."""
    releases = recorded_releases(ROOT)
    commits = list(releases.values())

    assert len(releases) >= 3
    # Each release is on this branch, after the one before it.
    for older, newer in zip(commits, [*commits[1:], "HEAD"], strict=True):
        ordered = run(["git", "merge-base", "--is-ancestor", older, newer], cwd=ROOT)
        assert ordered.returncode == 0, f"{older} is not an ancestor of {newer}"
    for tag, commit in releases.items():
        assert git(ROOT, "cat-file", "-t", f"{commit}:copier.yml").strip() == "blob", tag
        # A release commit's CHANGELOG opens with its own heading.
        subject = git(ROOT, "show", "--no-patch", "--format=%s", commit)
        if subject.startswith(f"Release {tag}:"):
            changelog = git(ROOT, "show", f"{commit}:CHANGELOG.md")
            assert RELEASE_HEADING.findall(changelog)[0] == tag


GROUPED_TESTS = """\
import os

import pytest


@pytest.mark.parametrize(
    "group", [pytest.param(g, marks=pytest.mark.xdist_group(g)) for g in "abcd" for _ in "123"]
)
def test_record_the_worker(group):
    with open(os.environ["WORKERS_LOG"], "a") as log:
        log.write(f"{group} {os.environ['PYTEST_XDIST_WORKER']}\\n")
"""


def test_xdist_keeps_each_group_on_one_worker(tmp_path: Path) -> None:
    """The matrix relies on --dist loadgroup: a combination's tests share one worker's render.

    Some pytest and pytest-xdist versions together stop grouping without a word
    (pytest-dev/pytest-xdist#1386); this fails instead.
    """
    (tmp_path / "test_grouped.py").write_text(GROUPED_TESTS)
    log = tmp_path / "workers.log"
    env = {**os.environ, "WORKERS_LOG": str(log)}
    args = ["-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"]

    done = run([sys.executable, *args, "test_grouped.py"], cwd=tmp_path, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    workers: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        group, worker = line.split()
        workers.setdefault(group, set()).add(worker)
    assert sorted(workers) == ["a", "b", "c", "d"]
    assert {group: len(seen) for group, seen in workers.items()} == dict.fromkeys("abcd", 1)
