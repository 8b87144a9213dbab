"""Each combination rendered once per test worker, in pytest-copie's session folder."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import jinja2
from copier import run_copy
from plumbum import local

from .matrix import ROOT, Combination


def snapshot(destination: Path) -> Path:
    """The template as the working tree has it (uncommitted changes included), without git.

    What copier renders for ``--vcs-ref HEAD`` on a dirty checkout: every file git tracks
    or would add. Rendering from a plain folder skips the clone copier makes of a git
    template for every render.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def without_git() -> AbstractContextManager[Any]:
    """Renders with no git on PATH: the same files, written faster.

    copier asks git about the destination's core.fileMode once per rendered file (a
    subprocess each, 40% of a render), and a matrix render's destination is no repository.
    """
    return local.env(PATH="")


# Compiled Jinja code by source and everything in an environment that shapes the code.
_COMPILED: dict[tuple[Any, ...], Any] = {}
_ORIGINAL_COMPILE: Callable[..., Any] = jinja2.Environment.compile


def _compile_settings(environment: jinja2.Environment) -> tuple[Any, ...]:
    return (
        type(environment),
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        tuple(sorted(environment.extensions)),
        tuple(sorted(environment.filters)),
        tuple(sorted(environment.tests)),
        environment.optimized,
        environment.autoescape,
        environment.finalize,
        environment.is_async,
    )


def _compile_once(
    environment: jinja2.Environment,
    source: Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> Any:
    if not isinstance(source, str):
        return _ORIGINAL_COMPILE(environment, source, name, filename, raw, defer_init)
    key = (source, name, filename, raw, defer_init, _compile_settings(environment))
    if key not in _COMPILED:
        _COMPILED[key] = _ORIGINAL_COMPILE(environment, source, name, filename, raw, defer_init)
    return _COMPILED[key]


@contextmanager
def jinja_compiled_once() -> Iterator[None]:
    """Jinja compiles each template and file name once per worker, not once per render.

    copier builds a new Jinja environment for every render, so every file and every path
    part was parsed and compiled again in each of the matrix's renders (60% of a render's
    time). The code Jinja generates depends only on the source and the environment's
    settings (its own bytecode cache reuses it across environments the same way): the
    files written are the same (test_renders.py compares them).
    """
    with mock.patch.object(jinja2.Environment, "compile", _compile_once):
        yield


def render(template: Path, destination: Path, combo: Combination) -> None:
    """``combo`` rendered from ``template`` with copier's API, its tasks skipped."""
    run_copy(
        src_path=str(template),
        dst_path=destination,
        data=combo.data,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )


class Renders:
    """Each combination rendered once (per worker), from a snapshot of the working tree.

    copier's tasks are skipped: they lock the dependencies (``uv lock``), which the
    command-line renders and updates check; the matrix checks the files the template
    writes, and each suite run locks when it installs. Renders from the git repository
    itself (``_commit`` recorded, updates) are the command-line tests' part.
    """

    def __init__(self, copie: Any) -> None:
        self.folder: Path = copie.test_dir
        self.projects: dict[str, Path] = {}
        self.seconds: dict[str, float] = {}
        self._template: Path | None = None

    @property
    def template(self) -> Path:
        if self._template is None:
            self._template = snapshot(self.folder / "template-snapshot")
        return self._template

    def get(self, combo: Combination) -> Path:
        if combo.id not in self.projects:
            template = self.template
            destination = self.folder / f"render-{len(self.projects):03d}"
            started = time.perf_counter()
            with without_git(), jinja_compiled_once():
                render(template, destination, combo)
            self.seconds[combo.id] = time.perf_counter() - started
            self.projects[combo.id] = destination
        return self.projects[combo.id]
