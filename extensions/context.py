"""Jinja extensions for the template: naming filters and derived values.

Every value that more than one template file needs, or that is computed from an
answer (dependency lists, URLs, image names), is computed here, once.
"""

from __future__ import annotations

import keyword
import re
import sys
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension

# Import names the generated project depends on (or that its tools install):
# a package named like one of them would shadow it.
RESERVED_PACKAGE_NAMES = frozenset(
    {
        "alembic",
        "app",
        "apispec",
        "celery",
        "conftest",
        "factory",
        "flask",
        "flask_migrate",
        "flask_smorest",
        "flask_swagger_ui",
        "flask_sqlalchemy",
        "gunicorn",
        "jwt",
        "kombu",
        "marshmallow",
        "migrations",
        "prometheus_client",
        "psycopg",
        "pymysql",
        "pytest",
        "redis",
        "requests",
        "responses",
        "sqlalchemy",
        "src",
        "test",
        "tests",
        "webargs",
        "werkzeug",
    }
)

REDIS_IMAGE = "redis:7"

DATABASES: dict[str, dict[str, Any]] = {
    "sqlite": {
        "label": "SQLite",
        "driver": None,
        "url_example": "sqlite:///{package}.sqlite3",
        "test_url_default": "",
        "image": None,
        "migration_datetime": "sa.DateTime()",
        "unreachable_url": "sqlite:////nonexistent-directory/unreachable.sqlite3",
    },
    "postgresql": {
        "label": "PostgreSQL",
        "driver": "psycopg[binary]>=3.2.2",
        "url_example": "postgresql+psycopg://postgres:postgres@localhost:5432/{package}",
        "test_url_default": "postgresql+psycopg://postgres:postgres@localhost:5432/postgres",
        "image": "postgres:17",
        "migration_datetime": "sa.DateTime(timezone=True)",
        "unreachable_url": "postgresql+psycopg://postgres@127.0.0.1:9/unreachable",
    },
    "mysql": {
        "label": "MySQL",
        "driver": "pymysql>=1.1",
        "url_example": "mysql+pymysql://root@localhost:3306/{package}?charset=utf8mb4",
        "test_url_default": "mysql+pymysql://root@localhost:3306/mysql?charset=utf8mb4",
        "image": "mysql:8.4",
        "migration_datetime": "mysql.DATETIME(fsp=6)",
        "unreachable_url": "mysql+pymysql://root@127.0.0.1:9/unreachable",
    },
}


PYTHON_VERSIONS = ("3.11", "3.12", "3.13")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def kebab(value: str) -> str:
    """``My Great_API`` -> ``my-great-api``."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    return "-".join(words)


def snake(value: str) -> str:
    """``my-great-api`` -> ``my_great_api``."""
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


def package_name_problem(name: str) -> str:
    """Return why ``name`` cannot be the package's import name, or ''."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return (
            f"package_name must be a lower-case Python identifier "
            f"(letters, digits, '_'; not starting with a digit), got {name!r}."
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name {name!r} is a Python keyword; choose another name."
    if name in sys.stdlib_module_names:
        return f"package_name {name!r} is a standard-library module; choose another name."
    if name in RESERVED_PACKAGE_NAMES:
        return f"package_name {name!r} would shadow a dependency; choose another name."
    return ""


class NamingExtension(Extension):
    """Filters used by copier.yml defaults and validators."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["kebab"] = kebab
        environment.filters["snake"] = snake
        environment.filters["package_name_problem"] = package_name_problem
        environment.filters["announce_prompt"] = announce_prompt


def announce_prompt(question: str) -> str:
    """Name the question copier is about to prompt for when no terminal can answer it.

    Used at the start of every question's help, which copier renders only when it
    prompts. Without a terminal (CI, scripts) copier's own error says only that an
    interactive session is required; this line says which answer was missing.
    Returns nothing, so the help shown in a terminal is unchanged.
    """
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        print(
            f"Question {question!r} has no answer and is read from standard input, which is"
            f" not a terminal. Answer it with --data {question}=VALUE or --data-file FILE,"
            " or take the defaults with --defaults.",
            file=sys.stderr,
        )
    return ""


class DerivedContext(ContextHook):
    """Values computed once from the answers, for every template file."""

    def hook(self, context: dict[str, Any]) -> None:
        database = context.get("database")
        package = context.get("package_name")
        if database not in DATABASES or package is None:
            # Still answering questions: nothing to derive yet.
            return
        db = DATABASES[database]
        token_auth = context.get("auth") == "token"
        celery = context.get("tasks") == "celery"
        factory_boy = context.get("factories") == "factory_boy"
        python = str(context.get("min_python", "3.12"))
        supported = [v for v in PYTHON_VERSIONS if _version_key(v) >= _version_key(python)]

        # Each floor is proven: the template's tests (and the generated CI) run the suite on
        # uv's --resolution lowest-direct, which installs exactly these versions.
        dependencies = [
            "flask>=3.1,<3.2",
            "flask-smorest>=0.46",
            "marshmallow>=3.24.1",
            "flask-sqlalchemy>=3.1",
            "sqlalchemy>=2.1",
            "flask-migrate>=4.0",
            "flask-cors>=5.0",
            "prometheus-client>=0.21",
            "python-dotenv>=1.0",
            "requests>=2.32.2",
            "gunicorn>=23.0",
            # gunicorn.conf.py's worker class: slow clients cannot hold a worker.
            "gevent>=24.10.1",
            # Swagger UI 5 (OpenAPI 3.1) for /docs, served by the service itself.
            "flask-swagger-ui>=5.21",
            # Imported directly, so declared with floors of their own (the lowest-direct CI
            # job proves them) rather than left to float with Flask and flask-smorest.
            "werkzeug>=3.1.3",
            "click>=8.1.8",
            "webargs>=8.6",
            "apispec>=6.8.1",
            "alembic>=1.18",
        ]
        if db["driver"]:
            dependencies.append(db["driver"])
        if token_auth:
            dependencies += ["pyjwt>=2.9", "limits[redis]>=5.2"]
        if celery:
            # kombu: its errors are caught where a task is queued (delivery.py).
            dependencies += ["celery[redis]>=5.5", "kombu>=5.5.2"]
        if token_auth or celery:
            # Below 6: limits 5.2 and kombu 5.5, at their floors, allow no later one.
            dependencies.append("redis>=5.2")
        test_dependencies = [
            "pytest>=9.0",
            "pytest-cov>=7.0",
            "pytest-xdist>=3.6.1",
            "responses>=0.25",
            "schemathesis>=4.30",
        ]
        if factory_boy:
            test_dependencies.append("factory-boy>=3.3")
        # mypy --strict checks src/ and tests/; stubs for the libraries that ship no types.
        lint_dependencies = [
            "ruff>=0.8",
            "mypy>=1.13",
            "types-flask-migrate",
            "types-gunicorn",
            "types-requests",
        ]
        if factory_boy:
            lint_dependencies.append("types-factory-boy")
        if celery:
            lint_dependencies.append("celery-types>=0.23")

        context.update(
            {
                "database_label": db["label"],
                "database_url_example": db["url_example"].format(package=package),
                "test_database_url_default": db["test_url_default"],
                "database_image": db["image"],
                # Login limits are counted in Redis in production (CI and compose start it).
                "redis_image": REDIS_IMAGE,
                "migration_datetime": db["migration_datetime"],
                "unreachable_database_url": db["unreachable_url"],
                "server_database": database != "sqlite",
                "token_auth": token_auth,
                "celery": celery,
                # Redis serves the login limits (token auth) and Celery's broker.
                "uses_redis": token_auth or celery,
                "dependencies": sorted(dependencies),
                "test_dependencies": sorted(test_dependencies),
                "lint_dependencies": sorted(lint_dependencies),
                "python_tag": "py" + python.replace(".", ""),
                # Every Python the project supports, oldest first (CI tests each).
                "python_versions": supported,
                "error_media_type": (
                    "application/problem+json"
                    if context.get("error_schema") == "problem"
                    else "application/json"
                ),
            }
        )
