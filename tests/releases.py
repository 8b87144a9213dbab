"""Releases of the template and projects made from them, as users see both.

A test gets its own git repository holding the template (this checkout's
working tree, uncommitted changes included), tags releases in it, and drives the
real ``copier`` command line against it: ``copy`` from a release, ``update`` to
a newer one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.version import Version

from .matrix import ROOT
from .tools import run, tool

GIT = [
    "git",
    "-c",
    "user.name=Template Tests",
    "-c",
    "user.email=template-tests@example.com",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
]
# The generated package's folder in the template, where releases change its modules.
SOURCE = "template/src/{{ package_name }}"
CONFLICT_MARKERS = re.compile(r"^(<{7}|>{7}) ", re.MULTILINE)
# What copier.yml's task prints when ``uv lock`` fails (PyPI out of reach for a moment): the
# project is written without its lock, and the message tells the owner to lock it later.
LOCK_FAILED = "Could not lock the dependencies"
LOCK_ATTEMPTS = 3


def git(cwd: Path, *args: str) -> str:
    done = run([*GIT, *args], cwd=cwd)
    assert done.returncode == 0, f"git {' '.join(args)} in {cwd}: {done.stderr}"
    return done.stdout


def copier(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The copier command line, with no terminal (as in CI)."""
    return run([tool("copier"), *args], cwd=cwd, stdin=subprocess.DEVNULL)


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace ``old``, which must occur exactly once in the file."""
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: expected {old!r} exactly once"
    path.write_text(text.replace(old, new))


def working_tree_files() -> list[str]:
    """This checkout's files as they are now: tracked and new, not ignored."""
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def copy_working_tree(destination: Path) -> None:
    for name in working_tree_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def version_of(tag: str) -> Version:
    return Version(tag.removeprefix("v"))


def release_tags(repo: Path, *args: str) -> list[str]:
    """The repository's ``vX.Y.Z`` tags, oldest first."""
    tags = git(repo, "tag", "--list", "v*", *args).split()
    return sorted((t for t in tags if re.fullmatch(r"v\d+\.\d+\.\d+", t)), key=version_of)


@dataclass
class TemplateRepo:
    """A private git repository of the template, where a test cuts releases."""

    path: Path

    def release(self, tag: str, message: str) -> str:
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", message)
        git(self.path, "tag", "--annotate", tag, "-m", tag)
        return tag

    def file(self, name: str) -> Path:
        return self.path / name

    def reset_to_working_tree(self) -> None:
        """This checkout's working tree again, over whatever a test changed."""
        for entry in self.path.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        copy_working_tree(self.path)


def new_template_repo(destination: Path) -> TemplateRepo:
    """The working tree in a fresh repository, with no release yet."""
    destination.mkdir(parents=True)
    git(destination, "init", "--quiet")
    copy_working_tree(destination)
    return TemplateRepo(destination)


def clone_with_releases(destination: Path) -> TemplateRepo:
    """This repository with its history and its release tags, at its current commit."""
    git(ROOT.parent, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(destination))
    return TemplateRepo(destination)


RELEASE_HEADING = re.compile(r"^## (v\d+\.\d+\.\d+)$", re.MULTILINE)
WRITTEN_POINT = re.compile(
    r"^## (v\d+\.\d+\.\d+)\n\nRelease point: commit `([0-9a-f]{7,40})`", re.MULTILINE
)
RELEASE_SUBJECT = re.compile(r"Release (v\d+\.\d+\.\d+):")


def recorded_releases(repo: Path) -> dict[str, str]:
    """Every release CHANGELOG.md names, oldest first, with its full commit in ``repo``.

    A release's commit is the one whose subject starts ``Release vX.Y.Z:``; releases from
    before that rule name their commit under their heading. Tags are not consulted: they
    do not travel with every clone.
    """
    changelog = (repo / "CHANGELOG.md").read_text()
    written = dict(WRITTEN_POINT.findall(changelog))
    subjects: dict[str, list[str]] = {}
    for line in git(repo, "log", "--grep", "^Release v[0-9]", "--format=%H %s").splitlines():
        commit, subject = line.split(" ", 1)
        if match := RELEASE_SUBJECT.match(subject):
            subjects.setdefault(match[1], []).append(commit)
    releases = {}
    for tag in RELEASE_HEADING.findall(changelog):
        commits = subjects.get(tag, [])
        assert len(commits) <= 1, f"{tag}: several release commits {commits}"
        assert not (commits and tag in written), f"{tag}: a release commit and a written one"
        reference = commits[0] if commits else written.get(tag)
        assert reference, f"CHANGELOG.md has {tag} but neither a release commit nor a record"
        releases[tag] = git(repo, "rev-parse", "--verify", f"{reference}^{{commit}}").strip()
    return dict(sorted(releases.items(), key=lambda item: version_of(item[0])))


def tag_releases(template: TemplateRepo, releases: Mapping[str, str]) -> None:
    """Tag each release at its commit in ``template`` (a tag already there must agree)."""
    for tag, commit in releases.items():
        existing = git(template.path, "tag", "--list", tag).strip()
        if existing:
            tagged = git(template.path, "rev-parse", f"{tag}^{{commit}}").strip()
            assert tagged == commit, f"tag {tag} is at {tagged}, the record says {commit}"
        else:
            git(template.path, "tag", "--annotate", tag, "-m", tag, commit)


def next_minor(tags: Iterable[str]) -> str:
    """The release after the newest of ``tags`` (v0.1.0 without any)."""
    newest = max(map(version_of, tags), default=Version("0.0.0"))
    return f"v{newest.major}.{newest.minor + 1}.0"


def question_names(copier_yml: str) -> set[str]:
    """The questions a copier.yml text asks."""
    return {name for name in yaml.safe_load(copier_yml) if not name.startswith("_")}


def migration_version(*arguments: str) -> str:
    """The release of the ``_migrations`` entry in copier.yml whose command has ``arguments``."""
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    (version,) = [
        entry["version"]
        for entry in config.get("_migrations", [])
        if set(arguments) <= set(entry["command"])
    ]
    return str(version)


def data_args(answers: Mapping[str, object]) -> list[str]:
    args = []
    for name, value in answers.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["--data", f"{name}={text}"]
    return args


def copy_project(
    template: TemplateRepo, destination: Path, answers: Mapping[str, object], *args: str
) -> Path:
    """``copier copy --trust --defaults`` from the template's newest release, committed to git."""
    done = copier(
        destination.parent,
        "copy",
        "--trust",
        "--defaults",
        *data_args(answers),
        *args,
        str(template.path),
        str(destination),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lock_if_the_task_could_not(destination, done)
    git(destination, "init", "--quiet")
    commit_all(destination, "Generate the project")
    return destination


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def update_project(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``copier update --trust --defaults``, as a CI job or a user without prompts runs it."""
    done = copier(project, "update", "--trust", "--defaults", *args)
    if done.returncode == 0:
        lock_if_the_task_could_not(project, done)
    return done


def lock_if_the_task_could_not(project: Path, done: subprocess.CompletedProcess[str]) -> None:
    """Run ``uv lock`` as the task's message says, when a registry hiccup made it fail.

    Without this, one failed request to PyPI leaves a project without ``uv.lock`` (or with
    the one from before the update), and every comparison with it fails for a reason that
    has nothing to do with the template; a lock that keeps failing is still a failure.
    """
    if LOCK_FAILED not in done.stdout + done.stderr:
        return
    failures = [done.stdout + done.stderr]
    for attempt in range(LOCK_ATTEMPTS):
        locked = run([tool("uv"), "lock", "--quiet"], cwd=project)
        if locked.returncode == 0:
            return
        failures.append(locked.stderr)
        time.sleep(5 * (attempt + 1))
    raise AssertionError(f"uv lock failed in {project}:\n" + "\n".join(failures))


def answers_of(project: Path) -> dict[str, object]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def project_files(project: Path) -> dict[str, bytes]:
    """Every file of a project but git's own, by relative path."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def conflicts_in(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Files holding merge conflict markers, and leftover ``.rej`` files."""
    found = []
    for name, content in files:
        if name.endswith(".rej") or CONFLICT_MARKERS.search(
            content.decode("utf-8", errors="replace")
        ):
            found.append(name)
    return found
