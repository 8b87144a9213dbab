"""The scripts copier.yml's ``_migrations`` run during ``copier update``."""

from __future__ import annotations

import sys
from pathlib import Path

from .matrix import ROOT
from .tools import run

RENAME = ROOT / "migrations/rename_answer.py"
ANSWERS = """\
# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY
_commit: v0.1.0
_src_path: /srv/templates/flask-api
database: postgresql
python_version: '3.11'
python_version_note: kept
"""


def rename(path: Path, old: str = "python_version", new: str = "min_python") -> str:
    done = run([sys.executable, str(RENAME), str(path), old, new])
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_answer_moves_to_the_new_name_and_nothing_else_changes(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(ANSWERS)

    said = rename(answers)

    assert answers.read_text() == ANSWERS.replace("python_version: '3.11'", "min_python: '3.11'")
    assert "'python_version' is now the answer to 'min_python'" in said


def test_a_file_without_the_old_name_is_left_alone(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    text = ANSWERS.replace("python_version: '3.11'\n", "")
    answers.write_text(text)

    assert rename(answers) == ""
    assert answers.read_text() == text


def test_an_answer_already_under_the_new_name_wins(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    text = ANSWERS + "min_python: '3.13'\n"
    answers.write_text(text)

    rename(answers)

    assert answers.read_text() == text


def test_wrong_arguments_exit_with_usage(tmp_path: Path) -> None:
    done = run([sys.executable, str(RENAME), str(tmp_path / "answers.yml")])

    assert done.returncode == 2
    assert "Usage: " in done.stderr
