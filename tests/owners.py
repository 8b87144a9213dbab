"""What a project's owners typically do after generating it, and how they settle conflicts.

The same edits serve every update test, whichever release the project came from: a new
endpoint module with its test, a README paragraph, a config value, a file deleted.
"""

from __future__ import annotations

import re
from pathlib import Path

from .releases import commit_all, replace_once

PACKAGE = "my_service"  # from the default project name

VERSION_MODULE = '''\
"""The deployed release, for smoke checks after a deploy."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from marshmallow import Schema, fields

from . import Blueprint

blp = Blueprint("version", __name__, description="The deployed release")


class Release(Schema):
    version = fields.String(required=True)


@blp.get("/version")
@blp.response(200, Release)
def current_version() -> dict[str, Any]:
    """The installed distribution's version."""
    return {"version": version("my-service")}
'''

VERSION_TEST = """\
from __future__ import annotations

from flask.testing import FlaskClient


def test_version_reports_the_installed_release(client: FlaskClient) -> None:
    response = client.get("/version")

    assert response.status_code == 200
    assert response.get_json() == {"version": "0.1.0"}
"""

OWN_PARAGRAPH = "Invoices, refunds and payouts for the shop. Owned by the payments team."
OWN_TIMEOUT = '_int(env, "WEBHOOK_TIMEOUT_SECONDS", 3)'
TEMPLATE_TIMEOUT = '_int(env, "WEBHOOK_TIMEOUT_SECONDS", 5)'
# The same line as a release changes it: the owners' edit and the release's overlap.
RELEASE_TIMEOUT = '_int(env, "WEBHOOK_TIMEOUT_SECONDS", 10)'

OWNER_TEST_PASSED = (
    "PASSED tests/integration/test_version_api.py::test_version_reports_the_installed_release"
)

EDITED = {"README.md", f"src/{PACKAGE}/config.py", f"src/{PACKAGE}/api/__init__.py"}
ADDED = {f"src/{PACKAGE}/api/version.py", "tests/integration/test_version_api.py"}
DELETED = {"compose.yaml"}


# Lines the owners change in files the template renders: (file, before, after).
REPLACEMENTS = [
    ("README.md", "\nA Flask JSON API service.\n", f"\n{OWN_PARAGRAPH}\n"),
    (f"src/{PACKAGE}/config.py", TEMPLATE_TIMEOUT, OWN_TIMEOUT),
    (f"src/{PACKAGE}/api/__init__.py", "health, posts, users\n", "health, posts, users, version\n"),
    (f"src/{PACKAGE}/api/__init__.py", "users, posts):", "users, posts, version):"),
]
CONFLICT = re.compile(
    r"^<{7} [^\n]*\n(?P<ours>.*?)^={7}\n(?P<theirs>.*?)^>{7} [^\n]*\n", re.MULTILINE | re.DOTALL
)


def edit_like_an_owner(project: Path) -> None:
    """A new endpoint module (with its test), a README paragraph, a config value, a file gone."""
    (project / "src" / PACKAGE / "api/version.py").write_text(VERSION_MODULE)
    (project / "tests/integration/test_version_api.py").write_text(VERSION_TEST)
    for name, before, after in REPLACEMENTS:
        replace_once(project / name, before, after)
    (project / "compose.yaml").unlink()
    commit_all(project, "Add a version endpoint, describe the service, shorten webhook waits")


def settle_conflicts_as_an_owner(project: Path, conflicted: list[str]) -> None:
    """Take the release's side of each conflict, then make the owners' edits to it again."""
    for name in conflicted:
        path = project / name
        path.write_text(CONFLICT.sub(lambda match: match["theirs"], path.read_text()))
        for edited, before, after in REPLACEMENTS:
            if edited == name and after not in path.read_text():
                replace_once(path, before, after)


def owner_edits_are_kept(project: Path) -> None:
    assert (project / "src" / PACKAGE / "api/version.py").read_text() == VERSION_MODULE
    assert (project / "tests/integration/test_version_api.py").read_text() == VERSION_TEST
    for name, _, after in REPLACEMENTS:
        assert after in (project / name).read_text(), f"{name}: the owners' {after!r} is gone"
    assert not (project / "compose.yaml").exists()
