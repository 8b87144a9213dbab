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
import tempfile
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


# Values a production shell holds for a generated project's variables (its .env.example
# names them): every suite runs with them exported, and must pass, reading none of them.
PRODUCTION_SHELL = {
    "APP_ENV": "production",
    "SECRET_KEY": "shell-secret-key-0123456789abcdef0123456789",
    "TOKEN_TTL_SECONDS": "600",
    "ADMIN_PASSWORD": "shell-admin-password",
    "MAX_CONTENT_LENGTH": "4096",
    "USER_WEBHOOK_URL": "http://127.0.0.1:9/must-not-be-called",
    "WEBHOOK_SECRET": "whsec_c2hlbGwtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ==",
    "WEBHOOK_TIMEOUT_SECONDS": "30",
    "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",
    "CELERY_KEY_PREFIX": "shell:",
    "WEBHOOK_RETRY_FIRST_SECONDS": "60",
    "WEBHOOK_RETRY_MAX_SECONDS": "600",
    "WEBHOOK_MAX_ATTEMPTS": "3",
    "DELIVERY_RELAY_SECONDS": "300",
    "DELIVERY_STALE_SECONDS": "900",
    "LOG_LEVEL": "WARNING",
    "LOG_FORMAT": "json",
    "CORS_ORIGINS": "https://app.example.com",
    "HSTS_SECONDS": "31536000",
    "TRUSTED_HOSTS": "api.example.com",
    "TRUSTED_PROXIES": "2",
    "METRICS_NETWORKS": "10.0.0.0/8",
    "LOGIN_RATE_LIMIT": "3 per hour",
    "LOGIN_ACCOUNT_RATE_LIMIT": "3 per hour",
    "LOGIN_CLIENT_RATE_LIMIT": "5 per hour",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0",
    "WEB_CONCURRENCY": "8",
    "GUNICORN_WORKER_CONNECTIONS": "10",
    "PORT": "8443",
    "GUNICORN_TIMEOUT": "5",
    "GUNICORN_GRACEFUL_TIMEOUT": "5",
    "GUNICORN_MAX_REQUESTS": "100",
}
EXAMPLE_VARIABLE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)


def production_shell(project: Path, live_database: Path) -> dict[str, str]:
    """Every variable of ``project``'s .env.example as a production shell would export it,
    ``DATABASE_URL`` naming ``live_database``; the suite's own ``TEST_*`` are left out.
    """
    example = (project / ".env.example").read_text()
    shell = {
        name: PRODUCTION_SHELL.get(name, value)
        for name, value in EXAMPLE_VARIABLE.findall(example)
        if not name.startswith("TEST_")
    }
    return shell | {"DATABASE_URL": f"sqlite:///{live_database}"}


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
    # The suite runs in a shell that exported the app's production variables (a sourced
    # .env, CI secrets): it must pass all the same, and never open the database they name.
    live_database = Path(tempfile.mkdtemp(prefix="live-")) / "live.sqlite3"
    env = clean_environment() | production_shell(project, live_database)
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
    assert not live_database.exists(), f"{project.name}: the suite opened DATABASE_URL"
    shutil.rmtree(live_database.parent, ignore_errors=True)
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
