"""Jinja extensions for the template: naming filters and derived values.

Every value that more than one template file needs, or that is computed from an
answer (dependency lists, URLs, image names), is computed here, once.
"""

from __future__ import annotations

import json
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
# ruff's line length in the generated project's pyproject.toml.
LINE_LENGTH = 100


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
        environment.globals["fit_call"] = fit_call
        environment.filters["singular"] = singular
        # A Python string literal in double quotes (what ruff format writes).
        environment.filters["pystr"] = lambda text: json.dumps(str(text), ensure_ascii=False)
        environment.globals["fit_import"] = fit_import
        environment.globals["fit_items"] = fit_items
        environment.globals["fit_parametrize"] = fit_parametrize


def fit_call(
    head: str,
    args: list[str],
    tail: str = "",
    indent: int = 0,
    brackets: str = "()",
    collection: bool = False,
) -> str:
    """``head(arg, ...)tail`` laid out as ruff format lays it out at ``indent`` spaces:
    on one line if it fits in 100 columns, else the arguments on one line of their own,
    else one argument a line with a trailing comma.
    """
    pad, left, right = " " * indent, brackets[0], brackets[1]
    one = f"{pad}{head}{left}{', '.join(args)}{right}{tail}"
    if len(one) <= LINE_LENGTH:
        return one
    inner = f"{pad}    {', '.join(args)}"
    # A call's arguments, or a single item, go on one line of their own when they fit; a
    # collection of several items is laid out one item a line.
    if len(inner) <= LINE_LENGTH and (not collection or len(args) == 1):
        return f"{pad}{head}{left}\n{inner}\n{pad}{right}{tail}"
    lines = "".join(f"{pad}    {arg},\n" for arg in args)
    return f"{pad}{head}{left}\n{lines}{pad}{right}{tail}"


def fit_items(
    head: str, items: list[str], tail: str = "", indent: int = 0, brackets: str = "()"
) -> str:
    """A tuple, list or set literal as ruff format lays it out (see ``fit_call``)."""
    if len(items) == 1 and brackets == "()":
        items = [items[0] + ","]
        one = f"{' ' * indent}{head}({items[0]}){tail}"
        return one if len(one) <= LINE_LENGTH else fit_call(head, items, tail, indent, "()")
    return fit_call(head, items, tail, indent, brackets, collection=True)


def fit_parametrize(name: str, values: list[str]) -> str:
    """``@pytest.mark.parametrize(name, [values])`` as ruff format lays it out."""
    listed = "[" + ", ".join(values) + "]"
    one = f"@pytest.mark.parametrize({name}, {listed})"
    if len(one) <= LINE_LENGTH:
        return one
    if len(f"    {name}, {listed}") <= LINE_LENGTH:
        return f"@pytest.mark.parametrize(\n    {name}, {listed}\n)"
    inner = fit_items("", values, ",", 4, "[]")
    return f"@pytest.mark.parametrize(\n    {name},\n{inner}\n)"


def fit_import(module: str, names: list[str]) -> str:
    """``from module import names`` as ruff lays it out: one line, or one name a line."""
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= LINE_LENGTH:
        return one
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


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

    loading = False

    def hook(self, context: dict[str, Any]) -> None:
        if context.get("resource") and not self.loading:
            # A resource (`flask scaffold`) follows the project's current answers. Loading
            # them renders their path, which comes back here: that render needs none.
            self.loading = True
            try:
                project = context["_external_data"]["project"]
            finally:
                self.loading = False
            context.update({k: v for k, v in project.items() if not k.startswith("_")})
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
                "res": resource_context(context) if context.get("resource") else {},
                "error_media_type": (
                    "application/problem+json"
                    if context.get("error_schema") == "problem"
                    else "application/json"
                ),
            }
        )


# Resources of the owners' own (`flask scaffold`): what each field type becomes in the
# model, the migration, the schemas and the tests. `flask scaffold` parses and checks
# the fields; a resource's answers file records them as it parsed them.
TEXT_LENGTH = 10_000


def singular(plural: str) -> str:
    """``invoices`` -> ``invoice``, ``categories`` -> ``category``; other names stay."""
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch")):
        if plural.endswith(ending):
            return plural[: -len(ending)] + replacement
    if plural.endswith("s") and not plural.endswith("ss"):
        return plural[:-1]
    return plural


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _decimal_text(precision: int, scale: int, digit: str) -> str:
    whole = digit if precision > scale else "0"
    return whole + ("." + digit * scale if scale else "")


def _decimal_factory(whole_digits: int, scale: int) -> str:
    """A distinct decimal for each n (up to a million) that fits its column."""
    fraction = "5" * scale
    if not whole_digits:
        return f'Decimal("0.{fraction}")'
    modulus = 10 ** min(whole_digits, 6)
    return f'Decimal(f"{{n % {modulus}}}.{fraction}")' if scale else f"Decimal(n % {modulus})"


def resource_field(field: dict[str, Any], table: str, migration_datetime: str) -> dict[str, Any]:
    """One field's pieces of code, each a Python source fragment."""
    name, kind = field["name"], field["type"]
    optional = bool(field.get("optional"))
    unique = bool(field.get("unique"))
    out: dict[str, Any] = {
        "name": name,
        "type": kind,
        "optional": optional,
        "unique": unique,
        "cascade": bool(field.get("cascade")),
        "index": False,
        "check": None,
        "references": None,
    }
    if kind == "string":
        length = int(field["length"])
        short = length < 4
        out |= {
            "python": "str",
            "column": f"String({length})",
            "migration": f"sa.String(length={length})",
            "load": ("Text", [f"validate=validate.Length(1, {length})"]),
            "dump": ("fields.String", []),
            "example": json.dumps("A" if short else "Ab 1"),
            "other": json.dumps("B" if short else "Cd 2"),
            "factory": f'f"{{n}}"[-{length}:]'
            if short
            else f'f"{name[: max(length - 7, 1)]}-{{n}}"',
            "bad": ['""', '"   "', f'"x" * {length + 1}', "123", '"a\\u0000b"'],
        }
    elif kind == "text":
        out |= {
            "python": "str",
            "column": "Text",
            "migration": "sa.Text()",
            "load": ("Text", ["validate=validate.Length(1, TEXT_LENGTH)"]),
            "dump": ("fields.String", []),
            "example": json.dumps("Some text."),
            "other": json.dumps("Other text."),
            "factory": '"Some text."',
            "bad": ['""', f'"x" * {TEXT_LENGTH + 1}', "[]"],
        }
    elif kind == "integer":
        out |= {
            "python": "int",
            "column": "Integer",
            "migration": "sa.Integer()",
            "load": ("WholeNumber", []),
            "dump": ("fields.Integer", []),
            "example": "42",
            "other": "7",
            "factory": "n + 1000",
            "bad": ['"1"', "True", "1.5", "2**31", "-(2**31) - 1", "10**100"],
        }
    elif kind == "decimal":
        precision, scale = int(field["precision"]), int(field["scale"])
        too_many_places = _decimal_text(precision, scale, "1") + ("1" if scale else ".1")
        whole_digits = precision - scale
        out |= {
            "python": "Decimal",
            "column": f"Numeric({precision}, {scale})",
            "migration": f"sa.Numeric(precision={precision}, scale={scale})",
            "load": ("ExactDecimal", [str(precision), str(scale)]),
            "dump": ("DecimalText", []),
            "example": json.dumps(_decimal_text(precision, scale, "1")),
            "other": json.dumps(_decimal_text(precision, scale, "2")),
            "factory": _decimal_factory(whole_digits, scale),
            "bad": [
                json.dumps(too_many_places),
                json.dumps("1" * (whole_digits + 1)),
                '"1" * 10_000',
                '"0." + "1" * 10_000',
                '"abc"',
                '"NaN"',
                '"Infinity"',
                '"1e400"',
                "True",
            ],
        }
    elif kind == "boolean":
        out |= {
            "python": "bool",
            "column": "Boolean",
            "migration": "sa.Boolean()",
            "load": ("StrictBoolean", []),
            "dump": ("fields.Boolean", []),
            "example": "True",
            "other": "False",
            "factory": "False",
            "bad": ['"true"', "1", "0", '"yes"'],
        }
    elif kind == "date":
        out |= {
            "python": "date",
            "column": "Date",
            "migration": "sa.Date()",
            "load": ("CalendarDate", []),
            "dump": ("fields.Date", []),
            "example": json.dumps("2026-01-02"),
            "other": json.dumps("2026-02-03"),
            "factory": "date(2000, 1, 1) + timedelta(days=n % 3000)",
            "bad": [
                '"2026-13-01"',
                '"2026-02-30"',
                '"0999-12-31"',
                '"tomorrow"',
                "20260101",
                '"2026-01-01T00:00:00"',
            ],
        }
    elif kind == "datetime":
        out |= {
            "python": "datetime",
            "column": "UTCDateTime()",
            "migration": migration_datetime,
            "load": ("Moment", []),
            "dump": ("fields.AwareDateTime", []),
            "example": json.dumps("2026-01-02T03:04:05+00:00"),
            "other": json.dumps("2026-02-03T04:05:06+00:00"),
            "factory": "datetime(2000, 1, 1, tzinfo=UTC) + timedelta(minutes=n)",
            "bad": [
                '"2026-01-02T03:04:05"',
                '"2026-13-01T00:00:00Z"',
                '"1000-01-01T00:00:00+01:00"',
                '"9999-12-31T23:59:59-01:00"',
                '"yesterday"',
                "0",
            ],
        }
    elif kind == "enum":
        values = [str(value) for value in field["values"]]
        length = max(len(value) for value in values)
        listed = ", ".join(f"'{value}'" for value in values)
        out |= {
            "python": "str",
            "column": f"String({length})",
            "migration": f"sa.String(length={length})",
            "load": ("fields.String", [f"validate=validate.OneOf({name.upper()}_VALUES)"]),
            "dump": ("fields.String", []),
            "example": json.dumps(values[0]),
            "other": json.dumps(values[-1]),
            "factory": json.dumps(values[0]),
            "bad": [
                '"not-a-value"',
                '""',
                "1",
                json.dumps(values[0].upper()) if values[0].upper() not in values else '"?"',
            ],
            "check": f"{name} IN ({listed})",
            "values": values,
            "values_name": f"{name.upper()}_VALUES",
        }
    elif kind == "references":
        target = field["references"]
        out |= {
            "python": "int",
            "column": (
                f'ForeignKey("{target}.id"'
                + (', ondelete="CASCADE"' if field.get("cascade") else "")
                + ")"
            ),
            "migration": "sa.Integer()",
            "load": ("Id", []),
            "dump": ("fields.Integer", []),
            "example": f"make_{singular(target)}().id",
            "other": f"make_{singular(target)}().id",
            "factory": f"make_{singular(target)}().id",
            "bad": ["0", "-1", '"1"', "True", "2**31"],
            "index": True,
            "references": {
                "table": target,
                "model": "User" if target == "users" else camel(singular(target)),
                "singular": singular(target),
                "is_users": target == "users",
            },
        }
    else:
        raise ValueError(f"unknown field type {kind!r}")
    if optional:
        out["python"] += " | None"
    out["factory_uses_n"] = re.search(r"\bn\b", out["factory"]) is not None
    out["column_args"] = [
        out["column"],
        *(["index=True"] if out["index"] else []),
        *(["unique=True"] if unique else []),
    ]
    return out


def resource_context(context: dict[str, Any]) -> dict[str, Any]:
    """Everything a resource's files need, from its answers."""
    name = context["resource"]
    token_auth = context.get("auth") == "token"
    access = context.get("resource_access", "public-read") if token_auth else "open"
    fields = [
        resource_field(field, name, DATABASES[context["database"]]["migration_datetime"])
        for field in context.get("resource_fields") or []
    ]
    types = {field["type"] for field in fields}
    references = [field for field in fields if field["references"]]
    return {
        "singular": singular(name),
        "a_singular": ("an " if name[0] in "aeiou" else "a ") + singular(name).replace("_", " "),
        "model": camel(singular(name)),
        "plural_title": name.replace("_", " ").capitalize(),
        "access": access,
        "owned": token_auth,
        "revision": f"r_{name}",
        "fields": fields,
        "field_types": types,
        "references": references,
        "unique_fields": [field for field in fields if field["unique"]],
        "factory_uses_n": any(field["factory_uses_n"] for field in fields),
        "editable": [field for field in fields if not field["references"]],
        "required": [field for field in fields if not field["optional"]],
        "referenced": sorted({field["references"]["table"] for field in references} - {"users"}),
        "loaders": sorted(
            {
                name
                for field in fields
                for name in (field["load"][0], field["dump"][0])
                if "." not in name
            }
            | {"PageMeta"}
        ),
        "uses_validate": any("validate." in arg for field in fields for arg in field["load"][1]),
        "check_fields": [field for field in fields if field["check"]],
    }
