"""The generated update job's script, run as the CI job runs it, against a local bare remote.

``scripts/update-from-template.sh --push origin`` is what the GitHub workflow and the GitLab
job call (the CI services themselves are not run here): it must leave exactly one update
commit on the branch ``template-update`` of the remote, name conflicts instead of hiding
them, push nothing when nothing changed, and never overwrite work someone added there.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .matrix import ROOT
from .owners import (
    OWN_TIMEOUT,
    PACKAGE,
    RELEASE_TIMEOUT,
    TEMPLATE_TIMEOUT,
    edit_like_an_owner,
)
from .releases import (
    SOURCE,
    TemplateRepo,
    answers_of,
    commit_all,
    copier,
    copy_project,
    git,
    new_template_repo,
    replace_once,
)
from .scaffolds import RESOURCES, registry_text
from .tools import run, tool

SCRIPT = "scripts/update-from-template.sh"
BRANCH = "template-update"
NEWER = "\nA line the newer release adds.\n"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Template update",
    "GIT_AUTHOR_EMAIL": "template-update@example.com",
    "GIT_COMMITTER_NAME": "Template update",
    "GIT_COMMITTER_EMAIL": "template-update@example.com",
}
# A bare remote's hook that records the push options it receives, one per line.
RECORD_PUSH_OPTIONS = """#!/bin/sh
i=0
while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do
  eval "printf '%s\\n' \\"\\$GIT_PUSH_OPTION_$i\\"" >>push-options
  i=$((i + 1))
done
"""


def released_project(tmp_path: Path) -> tuple[TemplateRepo, Path, Path]:
    """A template with v1.0.0, a project from it, and the project's bare remote ``origin``."""
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    project = copy_project(template, tmp_path / "project", {})
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(remote, "config", "receive.advertisePushOptions", "true")
    hook = remote / "hooks/pre-receive"
    hook.write_text(RECORD_PUSH_OPTIONS)
    hook.chmod(0o755)
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "--quiet", "origin", "main")
    return template, project, remote


def release_a_newer_readme(template: TemplateRepo, tag: str) -> None:
    readme = template.file("template/README.md.jinja")
    readme.write_text(readme.read_text() + NEWER)
    template.release(tag, f"Release {tag}")


def run_script(
    project: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The script as CI runs it; its key=value results as a dict."""
    results = project.parent / "results.env"
    results.unlink(missing_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "GIT_", "PYTEST_", "VIRTUAL_ENV"))
    }
    env |= IDENTITY | {"TEMPLATE_UPDATE_OUTPUT": str(results)}
    done = run(["bash", SCRIPT, *args], cwd=project, env=env, stdin=subprocess.DEVNULL)
    lines = results.read_text().splitlines() if results.exists() else []
    return done, dict(line.split("=", 1) for line in lines)


def remote_branches(remote: Path) -> dict[str, str]:
    listed = git(remote, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split(" ") for line in listed.splitlines())


def test_an_update_is_one_commit_on_its_branch_of_the_remote(tmp_path: Path) -> None:
    template, project, remote = released_project(tmp_path)
    main = git(project, "rev-parse", "HEAD").strip()
    release_a_newer_readme(template, "v1.1.0")

    done, results = run_script(project, "--push", "origin")

    assert done.returncode == 0, done.stdout + done.stderr
    title = "Update from the template: v1.0.0 -> v1.1.0"
    assert results == {"changed": "true", "conflicts": "0", "title": title}
    branches = remote_branches(remote)
    assert branches["main"] == main  # main itself is untouched
    # One commit on top of main: the release's files, the new answers, a message that says so.
    assert git(remote, "rev-parse", f"{BRANCH}^").strip() == main
    message = git(remote, "log", "-1", "--format=%B", BRANCH)
    assert message.startswith(f"{title}\n\n")
    assert "No conflicts" in message
    assert git(remote, "show", f"{BRANCH}:README.md").endswith(NEWER)
    assert "_commit: v1.1.0\n" in git(remote, "show", f"{BRANCH}:.copier-answers.yml")
    # The checkout is back where it was, clean, with the description for a pull request.
    assert git(project, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(project, "status", "--porcelain") == ""
    assert answers_of(project)["_commit"] == "v1.0.0"
    summary = (project / ".git/template-update.md").read_text()
    assert "`v1.0.0` -> `v1.1.0`" in summary
    assert summary in message

    # A second run with nothing newer pushes nothing.
    again, results = run_script(project, "--push", "origin")

    assert again.returncode == 0, again.stdout + again.stderr
    assert results == {"changed": "false"}
    assert "already proposes this update" in again.stdout
    assert remote_branches(remote) == branches


def test_nothing_new_from_the_template_commits_and_pushes_nothing(tmp_path: Path) -> None:
    _, project, remote = released_project(tmp_path)

    done, results = run_script(project, "--push", "origin")

    assert done.returncode == 0, done.stdout + done.stderr
    assert results == {"changed": "false"}
    assert "Nothing new from the template" in done.stdout
    assert list(remote_branches(remote)) == ["main"]
    assert git(project, "branch", "--list", BRANCH) == ""


def test_conflicts_are_named_in_the_commit_and_the_merge_request(tmp_path: Path) -> None:
    template, project, remote = released_project(tmp_path)
    edit_like_an_owner(project)
    git(project, "push", "--quiet", "origin", "main")
    replace_once(template.file(f"{SOURCE}/config.py.jinja"), TEMPLATE_TIMEOUT, RELEASE_TIMEOUT)
    template.release("v1.1.0", "Release 1.1.0: wait longer for webhooks")

    done, results = run_script(project, "--push", "origin", "--merge-request", "main")

    assert done.returncode == 0, done.stdout + done.stderr
    title = "Update from the template: v1.0.0 -> v1.1.0 (1 file with conflicts)"
    assert results == {"changed": "true", "conflicts": "1", "title": title}
    config = f"src/{PACKAGE}/config.py"
    message = git(remote, "log", "-1", "--format=%B", BRANCH)
    assert f"- `{config}`" in message
    committed = git(remote, "show", f"{BRANCH}:{config}")
    assert f"<<<<<<< before updating\n        self.WEBHOOK_TIMEOUT_SECONDS = {OWN_TIMEOUT}\n" in (
        committed
    )
    # GitLab opens (or refreshes) the merge request from these push options.
    options = (remote / "push-options").read_text().splitlines()
    assert options[:2] == ["merge_request.create", "merge_request.target=main"]
    assert f"merge_request.title={title}" in options
    assert any(o.startswith("merge_request.description=") and "conflicts: 1" in o for o in options)


def test_work_added_to_the_branch_is_never_overwritten(tmp_path: Path) -> None:
    template, project, remote = released_project(tmp_path)
    release_a_newer_readme(template, "v1.1.0")
    first, _ = run_script(project, "--push", "origin")
    assert first.returncode == 0, first.stdout + first.stderr
    # Someone settles things on the branch: a commit of their own on top of the update.
    reviewer = tmp_path / "reviewer"
    git(tmp_path, "clone", "--quiet", "--branch", BRANCH, str(remote), str(reviewer))
    (reviewer / "NOTES.md").write_text("Checked the new README line.\n")
    commit_all(reviewer, "Review notes")
    git(reviewer, "push", "--quiet", "origin", BRANCH)
    branches = remote_branches(remote)
    release_a_newer_readme(template, "v1.2.0")

    done, results = run_script(project, "--push", "origin")

    assert done.returncode != 0
    assert "has work of its own" in done.stderr
    assert results == {"changed": "false"}
    assert remote_branches(remote) == branches
    assert git(project, "symbolic-ref", "--short", "HEAD").strip() == "main"


def test_an_unclean_tree_is_refused_before_anything_changes(tmp_path: Path) -> None:
    template, project, remote = released_project(tmp_path)
    release_a_newer_readme(template, "v1.1.0")
    (project / "README.md").write_text("Work in progress.\n")

    done, results = run_script(project, "--push", "origin")

    assert done.returncode != 0
    assert "uncommitted changes" in done.stderr
    assert results == {}
    assert list(remote_branches(remote)) == ["main"]
    assert (project / "README.md").read_text() == "Work in progress.\n"


def test_the_script_passes_shellcheck() -> None:
    """Copied as it is into every project (not a Jinja template)."""
    linted = run([tool("shellcheck"), "--severity=style", str(ROOT / "template" / SCRIPT)])

    assert linted.returncode == 0, linted.stdout + linted.stderr


OWN_METHOD = '''
    def count(self) -> int:
        """How many invoices there are (a method of the owners' own)."""
        return len(self.session.scalars(select(Invoice.id)).all())
'''


def test_a_release_reaches_each_scaffolded_resource_with_the_owners_edits_kept(
    tmp_path: Path,
) -> None:
    template, project, _ = released_project(tmp_path)
    [invoices] = [resource for resource in RESOURCES if resource.name == "invoices"]
    data = tmp_path / "invoices.json"
    data.write_text(
        json.dumps(
            {
                "resource": "invoices",
                "resource_fields": list(invoices.fields),
                "resource_revises": "0005",
            }
        )
    )
    # What `flask scaffold invoices ...` runs (the command itself: test_scaffold.py).
    added = copier(
        project,
        *("copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", "--data-file", str(data)),
        *("--answers-file", ".copier-resources/invoices.yml", str(template.path), "."),
    )
    assert added.returncode == 0, added.stdout + added.stderr
    (project / "src" / PACKAGE / "resources" / "__init__.py").write_text(
        registry_text(["invoices"])
    )
    service = project / "src" / PACKAGE / "resources" / "invoices" / "service.py"
    service.write_text(service.read_text() + OWN_METHOD)
    commit_all(project, "Invoices, with a count of our own")
    # The next release changes the pattern every resource's service follows.
    pattern = template.file(
        "resource/src/{{ package_name }}/resources/{{ resource }}/service.py.jinja"
    )
    replace_once(pattern, 'does not exist.")', 'is gone.")')
    template.release("v1.1.0", "Release 1.1.0")

    done, results = run_script(project)

    assert done.returncode == 0, done.stdout + done.stderr
    assert results["conflicts"] == "0", done.stdout
    assert git(project, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"
    updated = git(project, "show", f"{BRANCH}:src/{PACKAGE}/resources/invoices/service.py")
    assert 'raise NotFoundError(f"Invoice {invoice_id} is gone.")' in updated
    assert OWN_METHOD in updated
    answers = git(project, "show", f"{BRANCH}:.copier-resources/invoices.yml")
    assert "_commit: v1.1.0" in answers
