"""The option matrix, derived from copier.yml.

Every choice and bool question contributes its values, so a new choice adds its
combinations without a test edit.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = ROOT / "copier.yml"

# Questions that only select CI, Docker or minimum-Python files. Combinations that
# differ only in these share one run of the generated suite; a test proves that
# their source and test trees are byte-identical. Any other question splits groups.
NON_CODE_QUESTIONS = frozenset({"ci", "docker", "min_python"})

# What a suite hash covers: the code and the tests, not CI, Docker or metadata.
SUITE_TREES = ("src", "tests")
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"})


@cache
def copier_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(COPIER_YML.read_text())
    return config


# Answered by `flask scaffold` for a resource of the owners' own, never asked of a project.
RESOURCE_QUESTIONS = frozenset(
    {"resource", "resource_fields", "resource_access", "resource_revises"}
)


def questions() -> dict[str, dict[str, Any]]:
    """The questions a project is asked."""
    config = copier_config().items()
    return {
        name: spec
        for name, spec in config
        if not name.startswith("_") and name not in RESOURCE_QUESTIONS
    }


def question_values(spec: Mapping[str, Any]) -> list[Any] | None:
    """The values a matrix question can take; None for free-text questions."""
    if spec.get("type") == "bool":
        return [True, False]
    choices = spec.get("choices")
    if choices is None:
        return None
    return list(choices.values()) if isinstance(choices, Mapping) else list(choices)


def matrix_questions() -> dict[str, list[Any]]:
    found = {name: question_values(spec) for name, spec in questions().items()}
    return {name: values for name, values in found.items() if values is not None}


def matrix_defaults() -> dict[str, Any]:
    return {name: questions()[name]["default"] for name in matrix_questions()}


def format_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return name if value else f"no-{name}"
    if name == "min_python":
        return f"py{value}"
    return str(value)


@dataclass(frozen=True, order=True)
class Combination:
    answers: tuple[tuple[str, Any], ...]

    @property
    def id(self) -> str:
        return "-".join(format_value(name, value) for name, value in self.answers)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.answers)

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    @property
    def suite_key(self) -> tuple[tuple[str, Any], ...]:
        return tuple((n, v) for n, v in self.answers if n not in NON_CODE_QUESTIONS)

    @property
    def group_id(self) -> str:
        return "-".join(format_value(name, value) for name, value in self.suite_key)


def default_combination(**answers: Any) -> Combination:
    """The default answers, with ``answers`` instead where given."""
    chosen = matrix_defaults() | answers
    return Combination(tuple((name, chosen[name]) for name in matrix_questions()))


def all_combinations() -> list[Combination]:
    names = list(matrix_questions())
    value_lists = [matrix_questions()[name] for name in names]
    return [
        Combination(tuple(zip(names, values, strict=True)))
        for values in itertools.product(*value_lists)
    ]


def quick_combinations() -> list[Combination]:
    """The defaults, plus one combination per non-default value of each question."""
    defaults = matrix_defaults()
    names = list(matrix_questions())
    chosen = [defaults]
    for name, values in matrix_questions().items():
        chosen += [defaults | {name: value} for value in values if value != defaults[name]]
    return [Combination(tuple((n, answers[n]) for n in names)) for answers in chosen]


@dataclass
class SuiteGroup:
    """Combinations expected to render byte-identical src/ and tests/ trees."""

    id: str
    members: list[Combination] = field(default_factory=list)
    index: int = 0

    @property
    def representative(self) -> Combination:
        """The member whose suite runs: Python versions rotate across groups."""
        versions = matrix_questions()["min_python"]
        wanted = versions[self.index % len(versions)]
        defaults = matrix_defaults()

        def rank(combo: Combination) -> tuple[bool, int]:
            differs = sum(combo[n] != defaults[n] for n in NON_CODE_QUESTIONS if n != "min_python")
            return (combo["min_python"] != wanted, differs)

        return min(self.members, key=rank)

    @property
    def database(self) -> str:
        return str(self.members[0]["database"])


def suite_groups(combinations: Iterable[Combination]) -> list[SuiteGroup]:
    groups: dict[str, SuiteGroup] = {}
    for combo in combinations:
        groups.setdefault(combo.group_id, SuiteGroup(combo.group_id)).members.append(combo)
    ordered = sorted(groups.values(), key=lambda group: group.id)
    for index, group in enumerate(ordered):
        group.index = index
    return ordered


def tree_digest(project: Path, trees: Iterable[str] = SUITE_TREES) -> str:
    """A hash of every file's path and bytes under ``trees`` (caches excluded)."""
    digest = hashlib.sha256()
    for tree in trees:
        for path in sorted((project / tree).rglob("*")):
            relative = path.relative_to(project)
            if not path.is_file() or IGNORED_PARTS & set(relative.parts):
                continue
            if path.suffix == ".pyc":
                continue
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def selected_combinations(config: pytest.Config) -> list[Combination]:
    return quick_combinations() if config.getoption("quick") else all_combinations()


def groups_of_shard(groups: list[SuiteGroup], index: int, count: int) -> list[SuiteGroup]:
    """Shard ``index`` of ``count`` (from 1): suite groups dealt round-robin."""
    return [group for group in groups if group.index % count == index - 1]
