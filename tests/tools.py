"""Wrappers around the checkers and runners the template's tests use."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from ruamel.yaml import YAML

BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Servers the generated PostgreSQL and MySQL suites create their databases on.
SERVER_URLS = {
    "postgresql": os.environ.get(
        "TEMPLATE_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mysql": os.environ.get(
        "TEMPLATE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql?charset=utf8mb4"
    ),
}
SERVER_URL_VARIABLES = {
    "postgresql": "TEMPLATE_TEST_POSTGRESQL_URL",
    "mysql": "TEMPLATE_TEST_MYSQL_URL",
}


def tool(name: str) -> str:
    """A command installed beside this Python (the test environment), else on PATH."""
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: install the dev dependencies")
    return found


def run(
    args: list[str], cwd: Path | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)


@functools.cache
def builtin_schema(name: str) -> dict[str, Any]:
    """A JSON schema vendored by check-jsonschema (GitHub workflows, GitLab CI, compose)."""
    package = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((package / f"{name}.json").read_text())
    return schema


def schema_errors(document: Any, schema_name: str) -> list[str]:
    schema = builtin_schema(schema_name)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def pyproject_errors(path: Path) -> list[str]:
    from validate_pyproject import api, errors

    try:
        api.Validator()(tomllib.loads(path.read_text()))
    except errors.ValidationError as error:
        return [str(error)]
    return []


def load_yaml(path: Path) -> Any:
    """Parse as YAML 1.2, like GitHub, GitLab and compose do (``on:`` stays a string)."""
    return YAML(typ="safe", pure=True).load(path.read_text())


@functools.cache
def find_python(version: str) -> str | None:
    """An interpreter for ``version``: on PATH, from pyenv, or one uv knows."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        probe = run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    found = run([tool("uv"), "python", "find", "--no-python-downloads", version])
    return found.stdout.strip() or None if found.returncode == 0 else None


def server_reachable(url: str) -> bool:
    parts = urlsplit(url)
    default_port = 5432 if parts.scheme.startswith("postgres") else 3306
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


@dataclass
class SuiteResult:
    passed: int
    output: str
    returncode: int
    seconds: float
    bin: Path  # the environment's bin folder


PASSED = re.compile(r"(\d+) passed")


def clean_environment() -> dict[str, str]:
    """The environment for a generated project: nothing of this test run leaks in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COV_", "VIRTUAL_ENV", "UV_PROJECT", "COVERAGE_"))
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    # Bytecode written as modules load, as on a developer's machine (each suite runs once,
    # so compiling whole dependency trees up front would cost more than it saves).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def python_for(version: str) -> str:
    """The interpreter for ``version``; skip without one, or fail under CI."""
    python = find_python(version)
    if python is None:
        message = f"no Python {version} interpreter found (on PATH, in pyenv, or known to uv)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return python


def install_project(project: Path, python: str, env: dict[str, str]) -> Path:
    """``uv sync`` the project's environment (``UV_PROJECT_ENVIRONMENT``, else ``.venv``).

    Returns its ``bin`` folder.
    """
    sync = run([tool("uv"), "sync", "--quiet", "--python", python], cwd=project, env=env)
    assert sync.returncode == 0, f"{project.name}: uv sync failed\n{sync.stderr}"
    return Path(env.get("UV_PROJECT_ENVIRONMENT", project / ".venv")) / "bin"


def run_suite(
    project: Path,
    python: str,
    server: str | None,
    *pytest_args: str,
    environments: Path | None = None,
) -> SuiteResult:
    """Install the project and run its suite (on ``server`` when given); it must pass.

    With ``environments``, a folder this test worker keeps: the project is installed in a
    fresh environment at the same path for every suite on ``python``, and bytecode is
    written to a cache beside it (``PYTHONPYCACHEPREFIX``). Python checks each cached file
    against its source's size and time, so a suite compiles only what changed since the
    worker's last suite, not every dependency again.
    """
    env = clean_environment()
    if server is not None:
        env["TEST_DATABASE_URL"] = server
    if environments is not None:
        environment = environments / hashlib.sha256(python.encode()).hexdigest()[:12]
        shutil.rmtree(environment, ignore_errors=True)
        env["UV_PROJECT_ENVIRONMENT"] = str(environment)
        env["PYTHONPYCACHEPREFIX"] = str(environments / "bytecode")
    started = time.perf_counter()
    venv = install_project(project, python, env)
    suite = run(
        [str(venv / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=project,
        env=env,
        timeout=900,
    )
    seconds = time.perf_counter() - started
    output = suite.stdout + suite.stderr
    assert suite.returncode == 0, f"{project.name}: generated suite failed\n{output[-6000:]}"
    passed = PASSED.search(output)
    assert passed is not None, output[-2000:]
    return SuiteResult(int(passed[1]), output, suite.returncode, seconds, venv)


def require_server(database: str, servers: dict[str, str | None]) -> str | None:
    """The server URL for ``database`` (None for SQLite); skip, or fail under CI, if down."""
    if database == "sqlite":
        return None
    url = servers[database]
    if url is None:
        message = (
            f"the {database} server at {SERVER_URLS[database]} does not answer; start it or "
            f"point {SERVER_URL_VARIABLES[database]} at one"
        )
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return url
