"""`flask scaffold`: a resource of the project's own, in one command.

    flask scaffold invoices number:string:40:unique amount:decimal:12,2 due_on:date \\
      paid:boolean notes:text:optional status:enum:draft,sent,paid \\
      customer_id:references:users

Each field is NAME:TYPE[:ARG][:MODIFIER...]. The resource is rendered from the project's
own template, at the project's release (copier, pinned in
scripts/template-update-requirements.txt), with answers of its own in
.copier-resources/NAME.yml, so that `make template-update` keeps it current. Everything
is checked before anything is written: bad input writes nothing.
"""

from __future__ import annotations

import json
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask

PACKAGE = __package__ or __name__.rpartition(".")[0]
TYPES = (
    "string",
    "text",
    "integer",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "enum",
    "references",
)
MODIFIERS = ("unique", "optional", "cascade")
ACCESS_RULES = ("public-read", "owner", "admin")
NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
ENUM_VALUE = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
MAX_NAME = 30
# A resource names its package, table, routes and classes: kept short enough for each.
MAX_RESOURCE_NAME = 20
# PostgreSQL's longest identifier (MySQL's is 64): constraint and index names included.
MAX_IDENTIFIER = 63
# The longest string a unique index holds on MySQL (3,072 bytes of utf8mb4); longer: text.
MAX_STRING = 768
MAX_PRECISION = 38
# SQLite stores NUMERIC values as 64-bit floats: 15 digits survive the round trip exactly.
MAX_SQLITE_PRECISION = 15
ANSWERS = Path(".copier-answers.yml")
RESOURCE_ANSWERS = Path(".copier-resources")
REQUIREMENTS = Path("scripts/template-update-requirements.txt")
CORE_RESOURCES = frozenset({"users", "posts"})
# Columns every resource has, and names the model and schema classes use themselves.
RESERVED_FIELDS = frozenset(
    {"id", "created_at", "owner_id", "metadata", "registry", "query"}
    | {"fields", "opts", "load", "loads", "dump", "dumps", "validate", "context", "many"}
    | {"partial", "unknown", "only", "exclude", "dump_only", "load_only", "error_messages"}
)
# Words that PostgreSQL, MySQL or SQLite reserve: a table or column named so breaks SQL
# that names it unquoted (a CHECK constraint, a query typed by hand).
RESERVED_WORDS = """
    add all alter analyze and as asc between both by call case cast change check collate
    column condition constraint create cross current_date current_role current_time
    current_timestamp current_user cursor database databases default delete desc describe
    distinct div do drop else elseif end except exists explain false fetch for foreign from
    full grant group having if ignore in index inner insert intersect interval into is join
    key keys kill lateral leading left like limit lines load lock loop match mod natural not
    null offset on option or order out outer over partition primary procedure range rank
    read references regexp release rename repeat replace require restrict return returning
    revoke right rlike row rows schema schemas select session_user set show some sql
    table then to trailing trigger true union unique unlock update usage use user using
    values when where while window with write xor
"""
SQL_RESERVED = frozenset(RESERVED_WORDS.split())


class ScaffoldError(click.ClickException):
    """Bad input: one line naming the problem, exit status 1, nothing written."""


@dataclass(frozen=True)
class Project:
    root: Path
    package_dir: Path
    answers: dict[str, str]
    resources: tuple[str, ...]

    @property
    def registry(self) -> Path:
        return self.package_dir / "resources" / "__init__.py"


def parse_field(
    spec: str, tables: Iterable[str], max_precision: int = MAX_PRECISION
) -> dict[str, Any]:
    """``NAME:TYPE[:ARG][:MODIFIER...]`` as the resource's answers record it."""
    name, _, rest = spec.partition(":")
    kind, _, rest = rest.partition(":")
    parts = rest.split(":") if rest else []
    where = f"field {spec!r}"
    check_name(name, where)
    if name in RESERVED_FIELDS:
        raise ScaffoldError(f"{where}: {name!r} is a name every resource has or needs.")
    if kind not in TYPES:
        raise ScaffoldError(f"{where}: unknown type {kind!r} (one of {', '.join(TYPES)}).")
    field: dict[str, Any] = {"name": name, "type": kind}
    takes_arg = kind in ("string", "decimal", "enum", "references")
    arg = parts.pop(0) if parts and takes_arg and parts[0] not in MODIFIERS else None
    if kind == "string":
        field["length"] = bounded_int(arg or "200", 1, MAX_STRING, f"{where}: the length")
    elif kind == "decimal":
        precision_text, _, scale_text = (arg or "12,2").partition(",")
        precision = bounded_int(precision_text, 1, max_precision, f"{where}: the precision")
        field["precision"] = precision
        field["scale"] = bounded_int(scale_text or "0", 0, precision, f"{where}: the scale")
    elif kind == "enum":
        values = (arg or "").split(",")
        if not arg or not all(ENUM_VALUE.match(value) and len(value) <= 50 for value in values):
            raise ScaffoldError(
                f"{where}: give the values, like status:enum:draft,sent,paid (lower-case "
                "letters, digits, '_' or '-', at most 50 characters each)."
            )
        if len(set(values)) != len(values):
            raise ScaffoldError(f"{where}: a value is listed twice.")
        field["values"] = values
    elif kind == "references":
        if not name.endswith("_id"):
            raise ScaffoldError(f"{where}: a reference's name ends in _id (like customer_id).")
        if arg not in set(tables):
            known = ", ".join(sorted(tables))
            raise ScaffoldError(f"{where}: references names nothing known ({known}).")
        field["references"] = arg
    for modifier in parts:
        if modifier not in MODIFIERS:
            raise ScaffoldError(
                f"{where}: unknown modifier {modifier!r} (one of {', '.join(MODIFIERS)})."
            )
        if modifier in field:
            raise ScaffoldError(f"{where}: {modifier} is given twice.")
        if modifier == "cascade" and kind != "references":
            raise ScaffoldError(f"{where}: only a reference may cascade.")
        if modifier == "unique" and kind == "text":
            raise ScaffoldError(f"{where}: text cannot be unique (use string).")
        field[modifier] = True
    return field


def bounded_int(text: str, low: int, high: int, what: str) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ScaffoldError(f"{what} must be a whole number from {low} to {high} (got {text!r}).")
    return int(text)


def check_name(name: str, where: str) -> None:
    if not NAME.match(name) or len(name) > MAX_NAME:
        raise ScaffoldError(
            f"{where}: {name!r} is not a name: a lower-case letter, then lower-case letters, "
            f"digits or '_', at most {MAX_NAME} characters."
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldError(f"{where}: {name!r} is a Python keyword.")
    if name in SQL_RESERVED:
        raise ScaffoldError(f"{where}: {name!r} is a word SQL reserves.")


def check_resource(name: str, project: Project, routes: set[str]) -> None:
    where = f"resource {name!r}"
    check_name(name, where)
    if len(name) > MAX_RESOURCE_NAME:
        raise ScaffoldError(f"{where}: at most {MAX_RESOURCE_NAME} characters.")
    if name in CORE_RESOURCES or name in project.resources:
        raise ScaffoldError(f"{where} exists already.")
    if name in sys.stdlib_module_names:
        raise ScaffoldError(f"{where}: a module of Python's standard library has this name.")
    if name in routes:
        raise ScaffoldError(f"{where}: the service already has a route named so.")
    if (project.package_dir / "resources" / name).exists():
        raise ScaffoldError(f"{where}: src/{PACKAGE}/resources/{name} exists already.")


def check_identifiers(name: str, fields: Sequence[dict[str, Any]]) -> None:
    """Every constraint and index name fits the databases' identifiers."""
    for field in fields:
        names = [f"ix_{name}_{field['name']}", f"uq_{name}_{field['name']}"]
        if "references" in field:
            names.append(f"fk_{name}_{field['name']}_{field['references']}")
        for identifier in names:
            if len(identifier) > MAX_IDENTIFIER:
                raise ScaffoldError(
                    f"field {field['name']!r}: the name {identifier} is longer than "
                    f"{MAX_IDENTIFIER} characters, the databases' limit: use shorter names."
                )


def service_routes(app: Flask) -> set[str]:
    """The first path segment of every route (under /api/v1/, the one after it)."""
    routes = set()
    for rule in app.url_map.iter_rules():
        parts = rule.rule.strip("/").split("/")
        routes.add(parts[2] if parts[:2] == ["api", "v1"] and len(parts) > 2 else parts[0])
    return {route for route in routes if NAME.match(route)}


def registry_text(names: Sequence[str]) -> str:
    """resources/__init__.py listing ``names``, laid out as ruff format lays it out."""
    imports = "".join(f"from .{name}.api import resource as {name}\n" for name in sorted(names))
    if not names:
        listed = "()"
    elif len(names) == 1:
        listed = f"({names[0]},)"
    else:
        listed = "(\n" + "".join(f"    {name},\n" for name in names) + ")"
    return REGISTRY.format(imports=imports, listed=listed)


REGISTRY = '''"""Resources of this project's own, added with `flask scaffold`: one line each.

Each is a package beside this file (model, schemas, service, blueprint and access rows,
all its own); `api.register_api` registers what this list names. `flask scaffold`
rewrites this file; edit it by hand to remove a resource.
"""

from __future__ import annotations

from ..api import Resource
{imports}
RESOURCES: tuple[Resource, ...] = {listed}
'''
REGISTERED = re.compile(r"^from \.(\w+)\.api import resource as \1$", re.MULTILINE)


def read_project(root: Path) -> Project:
    answers_path = root / ANSWERS
    if not answers_path.is_file():
        raise ScaffoldError(f"Run flask scaffold in the project's folder (no {ANSWERS} here).")
    answers = {}
    for line in answers_path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition(": ")
        if sep and not line.startswith(("#", " ", "-")):
            answers[key] = value.strip().strip("'\"")
    package_dir = root / "src" / PACKAGE
    registry = package_dir / "resources" / "__init__.py"
    text = registry.read_text(encoding="utf-8")
    order = REGISTERED.findall(text)
    listed = re.search(r"RESOURCES: tuple\[Resource, \.\.\.\] = \(([^)]*)\)", text)
    entries = listed.group(1).split(",") if listed else []
    names = tuple(entry.strip() for entry in entries if entry.strip())
    if sorted(order) != sorted(names) or text != registry_text(names):
        raise ScaffoldError(
            f"src/{PACKAGE}/resources/__init__.py was edited by hand: flask scaffold "
            "rewrites it, so put it back as it was written first."
        )
    return Project(root, package_dir, answers, names)


def migration_head(directory: Path) -> str:
    config = Config()
    config.set_main_option("script_location", str(directory))
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) != 1:
        raise ScaffoldError(
            f"The migrations have {len(heads)} heads ({', '.join(sorted(heads))}): join them "
            "first (python scripts/merge_migration_heads.py "
            f"src/{PACKAGE}/migrations/versions)."
        )
    return str(heads[0])


def render_resource(project: Project, data: dict[str, Any]) -> None:
    """Render the resource from the project's template, at the project's release."""
    uvx = shutil.which("uvx")
    if uvx is None:
        raise ScaffoldError("flask scaffold runs copier with uvx: install uv first.")
    source, release = project.answers.get("_src_path"), project.answers.get("_commit")
    if not source:
        raise ScaffoldError(f"{ANSWERS} does not say where the template is (_src_path).")
    with tempfile.TemporaryDirectory() as folder:
        data_file = Path(folder) / "resource.yml"
        # JSON is YAML: copier reads the answers as they are.
        data_file.write_text(json.dumps(data), encoding="utf-8")
        command = [uvx, "--with-requirements", str(REQUIREMENTS), "copier", "copy"]
        command += ["--trust", "--defaults", "--quiet", "--data-file", str(data_file)]
        command += ["--answers-file", str(RESOURCE_ANSWERS / f"{data['resource']}.yml")]
        if release:
            command += ["--vcs-ref", release]
        command += [source, "."]
        done = subprocess.run(command, cwd=project.root, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ScaffoldError(f"copier stopped (exit status {done.returncode}); see above.")


def scaffold(
    app: Flask, root: Path, name: str, specs: Sequence[str], access: str | None
) -> list[str]:
    """Check everything, then write the resource; returns what was written."""
    project = read_project(root)
    check_resource(name, project, service_routes(app))
    if access is not None and project.answers.get("auth") != "token":
        raise ScaffoldError("--access needs token auth: without it every endpoint is open.")
    if not specs:
        raise ScaffoldError("Give the resource at least one field, like title:string.")
    tables = {"users", *project.resources}
    sqlite = project.answers.get("database") == "sqlite"
    max_precision = MAX_SQLITE_PRECISION if sqlite else MAX_PRECISION
    fields = [parse_field(spec, tables, max_precision) for spec in specs]
    seen: set[str] = set()
    for field in fields:
        if field["name"] in seen:
            raise ScaffoldError(f"field {field['name']!r} is given twice.")
        seen.add(field["name"])
    check_identifiers(name, fields)
    head = migration_head(project.package_dir / "migrations")
    data = {
        "resource": name,
        "resource_fields": fields,
        "resource_access": access or "public-read",
        "resource_revises": head,
    }
    render_resource(project, data)
    project.registry.write_text(registry_text([*project.resources, name]), encoding="utf-8")
    return [
        f"src/{PACKAGE}/resources/{name}/",
        f"src/{PACKAGE}/migrations/versions/resource_{name}.py (revises {head})",
        f"tests/resources/{name}/",
        str(RESOURCE_ANSWERS / f"{name}.yml"),
        f"src/{PACKAGE}/resources/__init__.py (lists it)",
    ]
