"""A generated suite starts without repeating work on every run.

- ``make install`` byte-compiles every dependency, so a run never compiles one again,
  even where PYTHONDONTWRITEBYTECODE is set (many containers and CI images set it).
- pytest loads only the plugins the project names. With autoload on, pytest marks every
  module of every package that ships a plugin (schemathesis, hypothesis, faker, anyio)
  for assertion rewriting: hundreds of modules parsed and rewritten, on every run where
  bytecode is not written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_questions import copier_copy
from .tools import clean_environment, python_for, run

# Modules pytest may rewrite outside the project: the plugins pyproject.toml names.
NAMED_PLUGINS = {"pytest_cov.plugin", "xdist.plugin", "_hypothesis_pytestplugin"}
REWRITTEN = re.compile(r"^(?P<module>[^.]+)\.cpython-\d+-pytest-[\d.]+\.pyc$")


def installed_project(tmp_path: Path) -> Path:
    """A default project installed with the Makefile's own install command."""
    project = tmp_path / "project"
    code, output = copier_copy(project, "--defaults")
    assert code == 0, output
    install = re.search(r"^install:\n\t(.+)$", (project / "Makefile").read_text(), re.MULTILINE)
    assert install is not None
    command = install[1].split()
    assert command[:2] == ["uv", "sync"], command
    env = clean_environment() | {"PYTHONDONTWRITEBYTECODE": "1"}
    python = python_for("3.12")
    done = run([*command, "--python", python], cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    return project


def site_packages(project: Path) -> Path:
    (found,) = (project / ".venv/lib").glob("python3.*/site-packages")
    return found


def rewritten_modules(folder: Path) -> set[str]:
    """Modules under ``folder`` that pytest wrote an assertion-rewritten bytecode file for."""
    found = set()
    for pyc in folder.rglob("__pycache__/*-pytest-*.pyc"):
        match = REWRITTEN.match(pyc.name)
        assert match is not None, pyc
        package = pyc.parent.parent.relative_to(folder).parts
        module = match["module"]
        found.add(".".join(package) if module == "__init__" else ".".join((*package, module)))
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_project(tmp_path_factory.mktemp("start-up"))


def test_install_compiles_every_dependency(project: Path) -> None:
    packages = site_packages(project)
    sources = [*(packages / "flask").rglob("*.py"), *(packages / "sqlalchemy/orm").rglob("*.py")]
    assert len(sources) > 40

    missing = [
        str(path)
        for path in sources
        if not list((path.parent / "__pycache__").glob(f"{path.stem}.cpython-3*.pyc"))
    ]

    assert missing == []


def test_pytest_rewrites_only_the_plugins_it_names(project: Path) -> None:
    # Bytecode written (as on a developer's machine): every rewritten module leaves a file.
    env = clean_environment()
    collected = run(
        [str(project / ".venv/bin/python"), "-m", "pytest", "--collect-only", "-q"],
        cwd=project,
        env=env,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert re.search(r"^(\d{3,}) tests collected", collected.stdout, re.MULTILINE)

    outside = rewritten_modules(site_packages(project))

    assert outside == NAMED_PLUGINS


def test_the_suite_still_runs_in_parallel(project: Path) -> None:
    """xdist is loaded by name, so ``pytest -n`` works as the README says."""
    env = clean_environment()
    # The unit tests alone stay under the coverage bar: only the parallel run is in question.
    command = ["-m", "pytest", "-n", "2", "--cov-fail-under=0", "tests/unit"]
    parallel = run(
        [str(project / ".venv/bin/python"), *command],
        cwd=project,
        env=env,
    )
    output = parallel.stdout + parallel.stderr

    assert parallel.returncode == 0, output[-3000:]
    assert re.search(r"2 workers \[\d+ items\]", output), output[-3000:]
