"""Resources of the owners' own, as `flask scaffold` adds them, for every test that needs some.

Together they use every field type, modifier and access rule: ``invoices`` is the command
of the README (public-read), ``payments`` refers to it and cascades (owner), ``audits`` is
for admins only. The matrix renders them with copier's API, as the command does, into each
distinct suite; ``test_scaffold.py`` runs the command itself.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copier import run_copy

from .matrix import ROOT


@dataclass(frozen=True)
class Scaffolded:
    name: str
    access: str
    specs: tuple[str, ...]
    # The fields as the command records them in the resource's answers.
    fields: tuple[dict[str, Any], ...] = field(default=())

    def command(self) -> list[str]:
        return ["scaffold", self.name, *self.specs, "--access", self.access]


RESOURCES = (
    Scaffolded(
        "invoices",
        "public-read",
        (
            "number:string:40:unique",
            "amount:decimal:12,2",
            "due_on:date",
            "paid:boolean",
            "notes:text:optional",
            "status:enum:draft,sent,paid",
            "customer_id:references:users",
            "sent_at:datetime:optional",
            "quantity:integer",
        ),
        (
            {"name": "number", "type": "string", "length": 40, "unique": True},
            {"name": "amount", "type": "decimal", "precision": 12, "scale": 2},
            {"name": "due_on", "type": "date"},
            {"name": "paid", "type": "boolean"},
            {"name": "notes", "type": "text", "optional": True},
            {"name": "status", "type": "enum", "values": ["draft", "sent", "paid"]},
            {"name": "customer_id", "type": "references", "references": "users"},
            {"name": "sent_at", "type": "datetime", "optional": True},
            {"name": "quantity", "type": "integer"},
        ),
    ),
    Scaffolded(
        "payments",
        "owner",
        ("invoice_id:references:invoices:cascade", "paid_at:datetime", "amount:decimal:10,2"),
        (
            {"name": "invoice_id", "type": "references", "references": "invoices", "cascade": True},
            {"name": "paid_at", "type": "datetime"},
            {"name": "amount", "type": "decimal", "precision": 10, "scale": 2},
        ),
    ),
    Scaffolded(
        "audits",
        "admin",
        ("note:string:3", "count:integer:unique:optional"),
        (
            {"name": "note", "type": "string", "length": 3},
            {"name": "count", "type": "integer", "unique": True, "optional": True},
        ),
    ),
)


def _merge_script() -> Any:
    path = ROOT / "template" / "scripts" / "merge_migration_heads.py"
    spec = importlib.util.spec_from_file_location("merge_migration_heads", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def registry_text(names: list[str]) -> str:
    """``resources/__init__.py`` as `flask scaffold` writes it (the generated suite checks
    that the command would write the same)."""
    imports = "".join(f"from .{name}.api import resource as {name}\n" for name in sorted(names))
    if len(names) == 1:
        listed = f"({names[0]},)"
    else:
        listed = "(\n" + "".join(f"    {name},\n" for name in names) + ")"
    return f'''"""Resources of this project's own, added with `flask scaffold`: one line each.

Each is a package beside this file (model, schemas, service, blueprint and access rows,
all its own); `api.register_api` registers what this list names. `flask scaffold`
rewrites this file; edit it by hand to remove a resource.
"""

from __future__ import annotations

from ..api import Resource
{imports}
RESOURCES: tuple[Resource, ...] = {listed}
'''


def add_resources(template: Path, project: Path, package: str) -> None:
    """Render every resource into ``project`` from ``template``, each on the head of the
    migrations before it, and list them, as `flask scaffold` does (tasks skipped)."""
    versions = project / "src" / package / "migrations" / "versions"
    [head] = _merge_script().heads(versions)
    for resource in RESOURCES:
        run_copy(
            src_path=str(template),
            dst_path=project,
            data={
                "resource": resource.name,
                "resource_fields": list(resource.fields),
                "resource_access": resource.access,
                "resource_revises": head,
            },
            answers_file=f".copier-resources/{resource.name}.yml",
            defaults=True,
            unsafe=True,
            quiet=True,
            skip_tasks=True,
        )
        head = f"r_{resource.name}"
    registry = project / "src" / package / "resources" / "__init__.py"
    registry.write_text(registry_text([resource.name for resource in RESOURCES]))
