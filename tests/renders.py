"""Each combination rendered once per test worker, in pytest-copie's session folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from copier import run_copy

from .matrix import ROOT, Combination


class Renders:
    """Each combination rendered once (per worker), from the working tree.

    copier's tasks are skipped: they lock the dependencies (``uv lock``), which the
    command-line renders and updates check; the matrix checks the files the template
    writes, and each suite run locks when it installs.
    """

    def __init__(self, copie: Any) -> None:
        self.folder: Path = copie.test_dir
        self.projects: dict[str, Path] = {}
        self.seconds: dict[str, float] = {}

    def get(self, combo: Combination) -> Path:
        if combo.id not in self.projects:
            destination = self.folder / f"render-{len(self.projects):03d}"
            started = time.perf_counter()
            run_copy(
                src_path=str(ROOT),
                dst_path=destination,
                data=combo.data,
                defaults=True,
                unsafe=True,
                vcs_ref="HEAD",
                quiet=True,
                skip_tasks=True,
            )
            self.seconds[combo.id] = time.perf_counter() - started
            self.projects[combo.id] = destination
        return self.projects[combo.id]
