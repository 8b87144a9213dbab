"""Resources of this project's own, added with `flask scaffold`: one line each.

Each is a package beside this file (model, schemas, service, blueprint and access rows,
all its own); `api.register_api` registers what this list names. `flask scaffold`
rewrites this file; edit it by hand to remove a resource.
"""

from __future__ import annotations

from ..api import Resource

RESOURCES: tuple[Resource, ...] = ()
