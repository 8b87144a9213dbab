"""The matrix's fast renders write exactly what a plain copier render writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .matrix import Combination, all_combinations
from .renders import _COMPILED, jinja_compiled_once, render, snapshot, without_git

# Combinations far apart in the matrix: every question takes more than one value among them.
SPREAD = all_combinations()[::97]


def files_of(project: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


def rendered_files(template: Path, destination: Path, combo: Combination) -> dict[str, bytes]:
    render(template, destination, combo)
    return files_of(destination)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template"))


def test_the_spread_covers_every_question() -> None:
    for question in SPREAD[0].data:
        assert len({combo.data[question] for combo in SPREAD}) > 1, question


@pytest.mark.parametrize("combo", SPREAD, ids=lambda combo: combo.id)
def test_a_fast_render_writes_the_same_files(
    template: Path, tmp_path: Path, combo: Combination
) -> None:
    plain = rendered_files(template, tmp_path / "plain", combo)
    with without_git(), jinja_compiled_once():
        render(template, tmp_path / "warm-up", combo)
        compiled = len(_COMPILED)
        fast = rendered_files(template, tmp_path / "fast", combo)

    assert compiled > 50
    # The second render compiled nothing: every template and file name came from the cache.
    assert len(_COMPILED) == compiled
    assert fast == plain
