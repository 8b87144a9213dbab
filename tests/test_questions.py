"""Answers through the real copier command line: bad ones stop it with a clear message."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

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
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stdout + result.stderr


def copy_with_answers_file(
    destination: Path, answers: dict[str, Any], *args: str
) -> tuple[int, str]:
    """``copier copy`` reading ``answers`` from a file beside ``destination``."""
    answers_file = destination.with_name("answers.yml")
    answers_file.write_text(yaml.safe_dump(answers))
    return copier_copy(destination, *args, "--data-file", str(answers_file))


@pytest.mark.parametrize(
    ("question", "answer", "says"),
    [
        ("project_name", "Bad!Name", "1 to 64 characters"),
        ("project_name", "x" * 65, "1 to 64 characters"),
        ("project_name", "   ", "1 to 64 characters"),
        ("project_slug", "1-service", "^[a-z][a-z0-9-]*$"),
        ("project_slug", "My-Service", "^[a-z][a-z0-9-]*$"),
        # Each of these rendered a project that could not be locked, built or imported.
        ("project_name", "My Service\n", "1 to 64 characters"),
        ("project_slug", "my-service-", "end with a letter or digit"),
        ("project_slug", "s" * 65, "at most 64 characters"),
        ("description", "Line one\nline two", "one line of at most 200"),
        ("description", "One line\n", "one line of at most 200"),
        ("description", "x" * 201, "one line of at most 200"),
        ("author_name", "", "one line of 1 to 100"),
        ("author_name", "Team\nPayments", "one line of 1 to 100"),
        ("author_email", "team@example.com\n", "e-mail address"),
        ("package_name", "my-service", "lower-case Python identifier"),
        ("package_name", "1service", "lower-case Python identifier"),
        ("package_name", "class", "Python keyword"),
        ("package_name", "json", "standard-library module"),
        ("package_name", "flask", "would shadow a dependency"),
        ("package_name", "sqlalchemy", "would shadow a dependency"),
        ("author_email", "not-an-address", "e-mail address"),
        ("database", "oracle", "'oracle' is not in"),
        ("min_python", "3.8", "'3.8' is not in"),
        # copier's own bool type would read these as true (or false) and render on.
        ("docker", "maybe", "'maybe' is not in [True, False]"),
        ("docker", "ja", "'ja' is not in [True, False]"),
        ("docker", "1", "docker must be true or false (got 1)"),
        ("docker", "0", "docker must be true or false (got 0)"),
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


@pytest.mark.parametrize(
    ("answer", "dockerfile"),
    [("true", True), ("yes", True), ("false", False), ("no", False)],
)
def test_docker_takes_yaml_booleans_and_records_true_or_false(
    tmp_path: Path, answer: str, dockerfile: bool
) -> None:
    destination = tmp_path / "project"

    code, output = copier_copy(destination, "--defaults", "--data", f"docker={answer}")

    assert code == 0, output
    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert recorded["docker"] is dockerfile
    assert (destination / "Dockerfile").exists() is dockerfile
    assert (destination / "compose.yaml").exists() is dockerfile


def test_an_answers_file_drives_a_non_interactive_copy(tmp_path: Path) -> None:
    answers = {"project_name": "Billing API", "database": "postgresql", "auth": "none"}
    destination = tmp_path / "billing"

    code, output = copy_with_answers_file(destination, answers | {"ci": "gitlab"}, "--defaults")

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


@pytest.mark.parametrize(
    ("answers", "question"),
    [
        ({"project_name": None}, "project_name"),
        ({"database": None}, "database"),
        ({"docker": None}, "docker"),
    ],
    ids=["project_name", "database", "docker"],
)
def test_an_empty_answer_in_an_answers_file_stops_copier_naming_the_question(
    tmp_path: Path, answers: dict[str, None], question: str
) -> None:
    destination = tmp_path / "project"

    code, output = copy_with_answers_file(destination, answers, "--defaults")

    assert code != 0
    assert f'question "{question}"' in output or f"'{question}'" in output
    assert not destination.exists()


@pytest.mark.parametrize(
    ("given", "first_unanswered"),
    [
        ({}, "project_name"),
        ({"project_name": "Billing API", "project_slug": "billing"}, "package_name"),
        (
            {
                "project_name": "Billing API",
                "description": "Bills.",
                "author_name": "Payments",
                "author_email": "payments@example.com",
            },
            "project_slug",
        ),
    ],
    ids=["nothing", "two-answers", "four-answers"],
)
def test_without_a_terminal_or_defaults_copier_stops_naming_the_unanswered_question(
    tmp_path: Path, given: dict[str, str], first_unanswered: str
) -> None:
    """CI, or a script with no terminal: the first question without an answer is named."""
    destination = tmp_path / "project"

    code, output = copy_with_answers_file(destination, given)

    assert code != 0
    assert f"Question '{first_unanswered}' has no answer" in output
    assert f"--data {first_unanswered}=VALUE" in output
    assert "Interactive session required" in output
    assert not destination.exists()


def test_the_template_runs_only_when_trusted_by_flag_or_settings(tmp_path: Path) -> None:
    """Its Jinja extensions and migrations are code: copier needs --trust or settings.yml."""
    settings = tmp_path / "settings.yml"
    settings.write_text(yaml.safe_dump({"trust": [str(ROOT)]}))
    command = [tool("copier"), "copy", "--defaults", "--vcs-ref", "HEAD", str(ROOT)]
    nobody = tmp_path / "no-trust.yml"
    nobody.write_text(yaml.safe_dump({"trust": []}))

    untrusted = run(
        [*command, str(tmp_path / "untrusted")],
        stdin=subprocess.DEVNULL,
        env=os.environ | {"COPIER_SETTINGS_PATH": str(nobody)},
    )
    trusted = run(
        [*command, str(tmp_path / "trusted")],
        stdin=subprocess.DEVNULL,
        env=os.environ | {"COPIER_SETTINGS_PATH": str(settings)},
    )

    assert untrusted.returncode != 0
    assert "unsafe" in (untrusted.stdout + untrusted.stderr).lower()
    assert not (tmp_path / "untrusted").exists()
    assert trusted.returncode == 0, trusted.stderr
    assert (tmp_path / "trusted/.copier-answers.yml").is_file()
