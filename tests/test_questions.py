"""Answers through the real copier command line: bad ones stop it with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .matrix import ROOT
from .tools import run, tool


def copier_copy(destination: Path, *args: str) -> tuple[int, str]:
    result = run(
        [
            tool("copier"),
            "copy",
            "--trust",
            "--vcs-ref",
            "HEAD",
            *args,
            str(ROOT),
            str(destination),
        ],
        stdin=None,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("question", "answer", "says"),
    [
        ("project_name", "Bad!Name", "1 to 64 characters"),
        ("project_name", "x" * 65, "1 to 64 characters"),
        ("project_name", "   ", "1 to 64 characters"),
        ("project_slug", "1-service", "^[a-z][a-z0-9-]*$"),
        ("project_slug", "My-Service", "^[a-z][a-z0-9-]*$"),
        ("package_name", "my-service", "lower-case Python identifier"),
        ("package_name", "1service", "lower-case Python identifier"),
        ("package_name", "class", "Python keyword"),
        ("package_name", "json", "standard-library module"),
        ("package_name", "flask", "would shadow a dependency"),
        ("package_name", "sqlalchemy", "would shadow a dependency"),
        ("author_email", "not-an-address", "e-mail address"),
        ("database", "oracle", "'oracle' is not in"),
        ("python_version", "3.8", "'3.8' is not in"),
    ],
)
def test_a_bad_answer_stops_copier_naming_the_question(
    tmp_path: Path, question: str, answer: str, says: str
) -> None:
    destination = tmp_path / "project"

    code, output = copier_copy(destination, "--defaults", "--data", f"{question}={answer}")

    assert code != 0
    assert f"'{question}'" in output
    assert says in output
    assert not destination.exists()


def test_an_answers_file_drives_a_non_interactive_copy(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_text(
        yaml.safe_dump(
            {
                "project_name": "Billing API",
                "database": "postgresql",
                "auth": "none",
                "ci": "gitlab",
            }
        )
    )
    destination = tmp_path / "billing"

    code, output = copier_copy(destination, "--defaults", "--data-file", str(answers))

    assert code == 0, output
    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert recorded["package_name"] == "billing_api"
    assert (recorded["database"], recorded["auth"], recorded["ci"]) == (
        "postgresql",
        "none",
        "gitlab",
    )
    assert (destination / "src/billing_api/__init__.py").exists()
    assert (destination / ".gitlab-ci.yml").exists()
