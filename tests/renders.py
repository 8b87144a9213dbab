"""Each combination rendered once per test worker, through pytest-copie."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .matrix import Combination


class Renders:
    """Each combination rendered once (per worker), through pytest-copie."""

    def __init__(self, copie: Any) -> None:
        self.copie = copie
        self.projects: dict[str, Path] = {}
        self.seconds: dict[str, float] = {}

    def get(self, combo: Combination) -> Path:
        if combo.id not in self.projects:
            started = time.perf_counter()
            result = self.copie.copy(extra_answers=combo.data)
            self.seconds[combo.id] = time.perf_counter() - started
            if result.exit_code != 0:
                raise AssertionError(f"{combo.id}: copier failed: {result.exception!r}")
            self.projects[combo.id] = result.project_dir
        return self.projects[combo.id]
