"""A new project starts with its lock file, and its Docker image installs exactly that lock.

No Docker engine runs here: the Dockerfile's own install commands are run as written,
in a folder holding only what the Dockerfile copies at each step.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

from .test_questions import copier_copy
from .tools import clean_environment, run, tool

PACKAGE = "my_service"


def new_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    code, output = copier_copy(project, "--defaults")
    assert code == 0, output
    return project


def test_a_new_project_has_a_lock_that_matches_its_pyproject(tmp_path: Path) -> None:
    project = new_project(tmp_path)

    check = run([tool("uv"), "lock", "--locked"], cwd=project, env=clean_environment())

    assert (project / "uv.lock").is_file()
    assert check.returncode == 0, check.stderr


def test_the_docker_image_installs_exactly_the_lock(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    dockerfile = (project / "Dockerfile").read_text()
    installs = re.findall(r"^RUN (uv sync .+)$", dockerfile, re.MULTILINE)
    assert len(installs) == 2, dockerfile
    assert all("--locked" in command and "--no-dev" in command for command in installs)
    build = tmp_path / "build"
    build.mkdir()
    venv = tmp_path / "venv"
    env = clean_environment() | {"UV_PROJECT_ENVIRONMENT": str(venv)}

    # What the Dockerfile copies before each install: the lock first, then the code.
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(project / name, build / name)
    first = run(installs[0].split(), cwd=build, env=env)
    assert first.returncode == 0, first.stderr
    shutil.copytree(project / "src", build / "src")
    second = run(installs[1].split(), cwd=build, env=env)
    assert second.returncode == 0, second.stderr

    locked = {
        package["name"]: package["version"]
        for package in tomllib.loads((project / "uv.lock").read_text())["package"]
        if "version" in package
    }
    probe = (
        "import importlib.metadata as m, my_service, gunicorn\n"
        "print(m.version('flask'), m.version('sqlalchemy'))\n"
        "import pytest\n"
    )
    imported = run([str(venv / "bin/python"), "-c", probe], cwd=tmp_path)
    assert imported.stdout.split() == [locked["flask"], locked["sqlalchemy"]], imported.stderr
    # No dev tools in the image, and the app runs from the installed package, not from
    # the source folder (the runtime stage copies the virtual environment alone).
    assert "No module named 'pytest'" in imported.stderr
    where = run([str(venv / "bin/python"), "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"])
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
