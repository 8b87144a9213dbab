"""Every recorded release upgrades to this checkout, with its owners' edits kept, and
every database those releases migrated upgrades with its rows.

A project two or three releases behind is the normal case, so each release that
CHANGELOG.md records (tests/releases.py finds its commit, with or without tags) is
recreated as a tag in a private clone; a project is copied from it, edited as its owners
would, committed, and updated to this checkout with ``copier update --trust --defaults``.
Conflicts may only touch lines the owners changed; they are counted for the closing
table, settled as an owner would (the release's side, the owners' edit made again), and
the project's own suite must pass on its database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .live import ADMIN_PASSWORD, live_project
from .matrix import ROOT
from .owners import (
    ADDED,
    DELETED,
    EDITED,
    OWNER_TEST_PASSED,
    edit_like_an_owner,
    owner_edits_are_kept,
    settle_conflicts_as_an_owner,
)
from .releases import (
    TemplateRepo,
    answers_of,
    clone_with_releases,
    commit_all,
    conflicts_in,
    copy_project,
    git,
    next_minor,
    project_files,
    question_names,
    recorded_releases,
    release_tags,
    tag_releases,
    update_project,
    version_of,
)
from .tools import SuiteResult, python_for, require_server, run, run_suite, tool

RELEASES = recorded_releases(ROOT)
VERSIONS = "template/src/{{ package_name }}/migrations/versions"

# Each database and each error schema, with the other answers varied between them.
COMBINATIONS = {
    "sqlite-envelope": {"database": "sqlite", "error_schema": "envelope"},
    "postgresql-problem": {"database": "postgresql", "error_schema": "problem"},
    "mysql-envelope-open": {
        "database": "mysql",
        "error_schema": "envelope",
        "auth": "none",
        "factories": "plain",
    },
}
# The oldest Python the template supports: the answer must survive the v0.2.0 rename.
MIN_PYTHON = "3.11"


@dataclass
class ReleasedTemplate:
    """A private clone with every recorded release tagged and this checkout released last."""

    repo: TemplateRepo
    newest: str
    fresh: dict[str, Path] = field(default_factory=dict)
    # Suite runs by the digest of the project they ran on: updates from different releases
    # that end in byte-identical projects share one run, as identical matrix trees do.
    suites: dict[str, SuiteResult] = field(default_factory=dict)


@pytest.fixture(scope="session")
def released_template(tmp_path_factory: pytest.TempPathFactory) -> ReleasedTemplate:
    template = clone_with_releases(tmp_path_factory.mktemp("upgrades") / "template")
    tag_releases(template, RELEASES)
    template.reset_to_working_tree()
    newest = template.release(next_minor(release_tags(template.path)), "This checkout")
    return ReleasedTemplate(template, newest)


def fresh_copy(released: ReleasedTemplate, combination: str, tmp_path: Path) -> Path:
    """A new project from this checkout with the same answers (one per combination)."""
    if combination not in released.fresh:
        answers = {"min_python": MIN_PYTHON, **COMBINATIONS[combination]}
        released.fresh[combination] = copy_project(released.repo, tmp_path / "fresh", answers)
    return released.fresh[combination]


def python_question(release: str) -> str:
    """``python_version`` before the v0.2.0 rename, ``min_python`` since."""
    asked = question_names(git(ROOT, "show", f"{RELEASES[release]}:copier.yml"))
    return "python_version" if "python_version" in asked else "min_python"


def project_digest(project: Path) -> str:
    """A hash of every file's path and bytes, git's own files aside."""
    digest = hashlib.sha256()
    for name, content in project_files(project).items():
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


# One worker takes every release of a combination, so that identical projects share a run.
@pytest.mark.parametrize(
    "answered",
    [
        pytest.param(name, marks=pytest.mark.xdist_group(f"upgrades-{name}"))
        for name in COMBINATIONS
    ],
)
@pytest.mark.parametrize("release", list(RELEASES))
def test_a_project_from_every_release_updates_to_this_checkout(
    release: str,
    answered: str,
    released_template: ReleasedTemplate,
    database_servers: dict[str, str | None],
    suite_environments: Path,
    record_property: Any,
    tmp_path: Path,
) -> None:
    answers = COMBINATIONS[answered]
    server = require_server(answers["database"], database_servers)
    template = released_template.repo
    project = copy_project(
        template,
        tmp_path / "project",
        {python_question(release): MIN_PYTHON, **answers},
        "--vcs-ref",
        release,
    )
    assert answers_of(project)["_commit"] == release
    edit_like_an_owner(project)

    update = update_project(project)

    assert update.returncode == 0, update.stdout + update.stderr
    conflicted = conflicts_in(project_files(project).items())
    record_property(
        "upgrade",
        json.dumps({"release": release, "combination": answered, "conflicts": conflicted}),
    )
    assert set(conflicted) <= EDITED, "conflicts in files the owners did not touch"
    recorded = answers_of(project)
    assert recorded["_commit"] == released_template.newest
    assert recorded["min_python"] == MIN_PYTHON
    assert "python_version" not in recorded
    settle_conflicts_as_an_owner(project, conflicted)
    owner_edits_are_kept(project)
    # Every file the owners left alone is what a new project from this checkout has.
    ours = project_files(project)
    theirs = project_files(fresh_copy(released_template, answered, tmp_path))
    assert set(ours) == (set(theirs) - DELETED) | ADDED
    differing = {name for name in set(ours) & set(theirs) if ours[name] != theirs[name]}
    assert differing == EDITED
    digest = project_digest(project)
    if digest not in released_template.suites:
        released_template.suites[digest] = run_suite(
            project, python_for(MIN_PYTHON), server, "-rA", environments=suite_environments
        )
    assert OWNER_TEST_PASSED in released_template.suites[digest].output


def newest_of_each_migration_set() -> list[str]:
    """The newest release of each distinct folder of migrations the releases shipped."""
    newest = {
        git(ROOT, "rev-parse", f"{commit}:{VERSIONS}").strip(): tag
        for tag, commit in RELEASES.items()
    }
    return sorted(newest.values(), key=version_of)


@pytest.mark.parametrize("release", newest_of_each_migration_set())
def test_a_database_each_release_migrated_upgrades_with_its_rows(
    release: str, released_template: ReleasedTemplate, tmp_path: Path
) -> None:
    """Token auth and background tasks, every revision the template shipped, on SQLite.

    The update turns background tasks on where the release did not ask about them, so
    every database ends at the same revisions: a release's migrations and this checkout's
    must join whatever the database ran, with its users signing in as before.
    """
    asked = question_names(git(ROOT, "show", f"{RELEASES[release]}:copier.yml"))
    answers = {python_question(release): MIN_PYTHON, "database": "sqlite", "auth": "token"}
    if "tasks" in asked:
        answers["tasks"] = "celery"
    project = copy_project(
        released_template.repo, tmp_path / "project", answers, "--vcs-ref", release
    )

    with live_project(project, python_for(MIN_PYTHON), None) as live:
        live.flask("db", "upgrade")
        live.flask("create-admin", "owner@example.com")
        live.sql(
            "INSERT INTO posts (title, body, author_id, created_at)"
            " SELECT 'kept', 'A post.', id, CURRENT_TIMESTAMP FROM users"
        )
        if git(project, "status", "--porcelain"):
            # Before v1.0.0 the first `uv sync` wrote the lock, and owners committed it.
            commit_all(project, "Lock the dependencies")

        update = update_project(project, "--data", "tasks=celery")

        assert update.returncode == 0, update.stdout + update.stderr
        lock = project / "uv.lock"
        if "<<<<<<<" in lock.read_text():
            # The owners' lock met the release's: settled as uv says, by locking again.
            lock.unlink()
            assert run([tool("uv"), "lock", "--quiet"], cwd=project).returncode == 0
        live.install()
        live.flask("db", "upgrade")
        assert "No new upgrade operations detected" in live.flask("db", "check")
        kept = live.sql("SELECT title, author_id FROM posts", "SELECT id, email FROM users")
        assert kept == "[('kept', 1)]\n[(1, 'owner@example.com')]\n"
        assert live.logins(ADMIN_PASSWORD, "owner@example.com") == [200]
