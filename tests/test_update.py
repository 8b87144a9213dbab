"""`copier update`: a project keeps its owner's edits and receives newer releases' patterns.

Each test cuts releases in a private git copy of the template, makes a project from
one with the copier command line, commits it, edits it as its owners would, and
updates it to a newer release with ``copier update --trust --defaults``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .matrix import matrix_defaults
from .owners import (
    ADDED,
    DELETED,
    EDITED,
    OWN_PARAGRAPH,
    OWN_TIMEOUT,
    OWNER_TEST_PASSED,
    PACKAGE,
    RELEASE_TIMEOUT,
    TEMPLATE_TIMEOUT,
    edit_like_an_owner,
    owner_edits_are_kept,
)
from .releases import (
    GIT,
    SOURCE,
    TemplateRepo,
    answers_of,
    clone_with_releases,
    commit_all,
    conflicts_in,
    copy_project,
    data_args,
    git,
    migration_version,
    new_template_repo,
    next_minor,
    project_files,
    question_names,
    release_tags,
    replace_once,
    update_project,
    version_of,
)
from .tools import python_for, require_server, run, run_suite

# -- what a newer release of the template changes -----------------------------------------


RUNBOOK = "# Runbook\n\nRestart with `make run`; check `/readyz` before taking traffic.\n"
SUPPORT = "\n## Support\n\nQuestions about this service go to its owners' channel.\n"
HEALTH_DOC = '"""The process is alive (no database call)."""'
NEW_HEALTH_DOC = '"""The process is alive; no database call, so probes stay cheap."""'
CONFIG_DOC = '"""Settings shared by every environment."""'
NEW_CONFIG_DOC = '"""Settings shared by every environment; see .env.example for each."""'
RUNBOOK_TEST = """\
from pathlib import Path


def test_the_runbook_names_the_readiness_probe() -> None:
    runbook = Path(__file__).resolve().parents[2] / "RUNBOOK.md"

    assert "/readyz" in runbook.read_text()
"""
RELEASE_TEST_PASSED = (
    "PASSED tests/unit/test_runbook.py::test_the_runbook_names_the_readiness_probe"
)


def change_patterns(template: TemplateRepo) -> None:
    """New files (one a test), edits to files the owners left alone and to files they edited."""
    (template.file("template/RUNBOOK.md")).write_text(RUNBOOK)
    (template.file("template/tests/unit/test_runbook.py")).write_text(RUNBOOK_TEST)
    readme = template.file("template/README.md.jinja")
    readme.write_text(readme.read_text() + SUPPORT)
    replace_once(template.file(f"{SOURCE}/api/health.py"), HEALTH_DOC, NEW_HEALTH_DOC)
    replace_once(template.file(f"{SOURCE}/config.py.jinja"), CONFIG_DOC, NEW_CONFIG_DOC)


def pattern_changes_arrived(project: Path) -> None:
    assert (project / "RUNBOOK.md").read_text() == RUNBOOK
    assert (project / "tests/unit/test_runbook.py").read_text() == RUNBOOK_TEST
    assert (project / "README.md").read_text().endswith(SUPPORT)
    assert NEW_HEALTH_DOC in (project / "src" / PACKAGE / "api/health.py").read_text()
    assert NEW_CONFIG_DOC in (project / "src" / PACKAGE / "config.py").read_text()


def untouched_files_match_a_fresh_copy(project: Path, fresh: Path) -> None:
    """Every file the owners left alone is byte for byte what the new release renders."""
    ours, theirs = project_files(project), project_files(fresh)
    assert set(ours) == (set(theirs) - DELETED) | ADDED
    differing = sorted(name for name in set(ours) & set(theirs) if ours[name] != theirs[name])
    assert differing == sorted(EDITED)


MIGRATION_TESTS = (
    "test_downgrade_to_base_and_upgrade_again",
    "test_models_and_migrations_do_not_drift",
)


# -- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "error_schema"),
    [("sqlite", "envelope"), ("postgresql", "problem"), ("mysql", "envelope")],
)
def test_an_update_keeps_owner_edits_and_brings_the_new_release(
    database: str,
    error_schema: str,
    database_servers: dict[str, str | None],
    suite_environments: Path,
    tmp_path: Path,
) -> None:
    server = require_server(database, database_servers)
    answers = {"database": database, "error_schema": error_schema}
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    project = copy_project(template, tmp_path / "project", answers)
    edit_like_an_owner(project)
    change_patterns(template)
    template.release("v1.1.0", "Release 1.1.0: a runbook, a support section, clearer docs")

    update = update_project(project)

    assert update.returncode == 0, update.stdout + update.stderr
    assert answers_of(project)["_commit"] == "v1.1.0"
    owner_edits_are_kept(project)
    pattern_changes_arrived(project)
    assert conflicts_in(project_files(project).items()) == []
    fresh = copy_project(template, tmp_path / "fresh", answers)
    untouched_files_match_a_fresh_copy(project, fresh)
    python = python_for(matrix_defaults()["min_python"])
    suite = run_suite(project, python, server, "-rA", environments=suite_environments)
    assert OWNER_TEST_PASSED in suite.output
    assert RELEASE_TEST_PASSED in suite.output
    # On each real server, the migrations ran empty -> head -> base -> head, without drift.
    for test in MIGRATION_TESTS:
        assert f"PASSED tests/integration/test_migrations.py::{test}" in suite.output


def project_with_overlapping_change(tmp_path: Path) -> Path:
    """A project whose owners changed the line that the next release changes too."""
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    project = copy_project(template, tmp_path / "project", {})
    edit_like_an_owner(project)
    replace_once(template.file(f"{SOURCE}/config.py.jinja"), TEMPLATE_TIMEOUT, RELEASE_TIMEOUT)
    template.release("v1.1.0", "Release 1.1.0: wait longer for webhooks")
    return project


def test_overlapping_edits_conflict_inline_where_git_shows_them(tmp_path: Path) -> None:
    project = project_with_overlapping_change(tmp_path)

    update = update_project(project)

    # copier succeeds and leaves both sides in the file, between conflict markers...
    assert update.returncode == 0, update.stdout + update.stderr
    config = (project / "src" / PACKAGE / "config.py").read_text()
    assert (
        "<<<<<<< before updating\n"
        f"        self.WEBHOOK_TIMEOUT_SECONDS = {OWN_TIMEOUT}\n"
        "=======\n"
        f"        self.WEBHOOK_TIMEOUT_SECONDS = {RELEASE_TIMEOUT}\n"
        ">>>>>>> after updating\n"
    ) in config
    # ...and the owner finds it: git lists the file as unmerged, `git diff --check` flags it.
    assert f"UU src/{PACKAGE}/config.py" in git(project, "status", "--porcelain").splitlines()
    check = run([*GIT, "diff", "--check"], cwd=project)
    assert check.returncode != 0
    assert f"src/{PACKAGE}/config.py:" in check.stdout
    assert "leftover conflict marker" in check.stdout
    assert conflicts_in(project_files(project).items()) == [f"src/{PACKAGE}/config.py"]
    # Edits that did not overlap merged cleanly beside it.
    assert OWN_PARAGRAPH in (project / "README.md").read_text()


def test_overlapping_edits_go_to_a_rej_file_with_conflict_rej(tmp_path: Path) -> None:
    project = project_with_overlapping_change(tmp_path)

    update = update_project(project, "--conflict", "rej")

    assert update.returncode == 0, update.stdout + update.stderr
    config = project / "src" / PACKAGE / "config.py"
    # The file takes the release's line; the owner's hunk waits in config.py.rej.
    assert RELEASE_TIMEOUT in config.read_text()
    assert "<<<<<<<" not in config.read_text()
    rejected = config.with_name("config.py.rej").read_text()
    assert f"+        self.WEBHOOK_TIMEOUT_SECONDS = {OWN_TIMEOUT}" in rejected
    status = git(project, "status", "--porcelain").splitlines()
    assert f"?? src/{PACKAGE}/config.py.rej" in status


@pytest.mark.parametrize(
    "changed",
    [
        {"ci": "gitlab"},
        {"database": "postgresql"},
        {"error_schema": "problem", "docker": False},
        # Background tasks added to a running project: worker, outbox and its migration.
        {"tasks": "celery"},
    ],
    ids=lambda changed: "-".join(f"{k}={v}" for k, v in changed.items()),
)
def test_an_update_with_a_changed_answer_switches_the_files(
    changed: dict[str, object], tmp_path: Path
) -> None:
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    project = copy_project(template, tmp_path / "project", {})
    change_patterns(template)
    template.release("v1.1.0", "Release 1.1.0")

    update = update_project(project, *data_args(changed))

    assert update.returncode == 0, update.stdout + update.stderr
    recorded = answers_of(project)
    assert {name: recorded[name] for name in changed} == changed
    # Exactly the files a new project with these answers has: added, removed and changed.
    ours = project_files(project)
    theirs = project_files(copy_project(template, tmp_path / "fresh", changed))
    assert sorted(set(ours) ^ set(theirs)) == []
    assert sorted(name for name in ours if ours[name] != theirs[name]) == []


def test_an_update_goes_through_when_the_owners_deleted_the_merge_script(
    tmp_path: Path,
) -> None:
    """Files the owners deleted stay deleted, and the steps that would run them skip them."""
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    project = copy_project(template, tmp_path / "project", {})
    (project / "scripts" / "merge_migration_heads.py").unlink()
    commit_all(project, "We merge migration heads by hand")
    change_patterns(template)
    template.release("v1.1.0", "Release 1.1.0")

    update = update_project(project)

    assert update.returncode == 0, update.stdout + update.stderr
    assert answers_of(project)["_commit"] == "v1.1.0"
    assert not (project / "scripts" / "merge_migration_heads.py").exists()


# -- releases with a migration --------------------------------------------------------------

RENAMED = ("python_version", "min_python")  # the v0.2.0 rename, migrated by copier.yml


def release_before_the_rename(template: TemplateRepo, tag: str) -> str:
    """A synthetic release that still asks ``python_version``: the rename undone."""
    old, new = RENAMED
    paths = [template.file("copier.yml"), *template.path.glob("extensions/*.py")]
    paths += [path for path in template.path.glob("template/**/*") if path.is_file()]
    for path in paths:
        text = path.read_text()
        if new in text:
            path.write_text(text.replace(new, old))
    assert old in question_names(template.file("copier.yml").read_text())
    return template.release(tag, f"Release {tag}: asks {old}")


def test_the_rename_migration_keeps_the_answer(tmp_path: Path) -> None:
    old, new = RENAMED
    migration = migration_version(old, new)
    template = new_template_repo(tmp_path / "template")
    before = release_before_the_rename(template, "v0.1.0")
    assert version_of(before) < version_of(migration)
    project = copy_project(template, tmp_path / "project", {old: "3.11"})
    assert answers_of(project)[old] == "3.11"
    template.reset_to_working_tree()
    template.release(migration, f"Release {migration}: {old} is now {new}")

    update = update_project(project)

    assert update.returncode == 0, update.stdout + update.stderr
    assert f"the answer to {old!r} is now the answer to {new!r}" in update.stdout
    recorded = answers_of(project)
    assert (recorded[new], old in recorded) == ("3.11", False)
    assert 'requires-python = ">=3.11"' in (project / "pyproject.toml").read_text()
    assert conflicts_in(project_files(project).items()) == []


def test_without_the_migration_the_renamed_answer_would_be_lost(tmp_path: Path) -> None:
    """The control for the test above: the same update with no ``_migrations`` entry."""
    old, new = RENAMED
    migration = migration_version(old, new)
    template = new_template_repo(tmp_path / "template")
    release_before_the_rename(template, "v0.1.0")
    project = copy_project(template, tmp_path / "project", {old: "3.11"})
    template.reset_to_working_tree()
    config = template.file("copier.yml")
    config.write_text(re.sub(r"(?ms)^_migrations:.*?\n\n", "", config.read_text()))
    template.release(migration, "Release with the rename but no migration")

    update = update_project(project)

    assert update.returncode == 0, update.stdout + update.stderr
    assert answers_of(project)[new] == "3.12"  # the default: the owner's 3.11 is gone


# -- the README's quick start ---------------------------------------------------------------

QUICK_START = re.compile(r"^(uvx [^\n]*copier copy [^\n]*) /tmp/my-service \\$", re.MULTILINE)


def test_the_readme_quick_start_makes_a_project_that_updates(tmp_path: Path) -> None:
    """README command 1, run as written from a checkout, records a source copier can find."""
    template = clone_with_releases(tmp_path / "template")
    template.reset_to_working_tree()
    git(template.path, "add", "--all")
    git(template.path, "commit", "--quiet", "--allow-empty", "-m", "This checkout")
    command = QUICK_START.search(template.file("README.md").read_text())
    assert command is not None, "README command 1 renders to /tmp/my-service"
    project = tmp_path / "my-service"

    copied = run(["bash", "-c", f"{command[1]} {project}"], cwd=template.path)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert answers_of(project)["_src_path"] == str(template.path)
    git(project, "init", "--quiet")
    commit_all(project, "Generate the project")

    readme = template.file("template/README.md.jinja")
    readme.write_text(readme.read_text() + "\nNewer release.\n")
    release = template.release(next_minor(release_tags(template.path)), "A newer release")
    update = update_project(project)

    assert update.returncode == 0, update.stdout + update.stderr
    assert answers_of(project)["_commit"] == release
    assert (project / "README.md").read_text().endswith("\nNewer release.\n")
