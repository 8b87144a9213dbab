"""Features turned on later, or off, over a live database with rows and the owners' migration.

The issue's reproduction, as an owner types it: a project made with ``auth=none`` and
``tasks=none``, a migrated database with a user, a table of the owners' own with its
migration and a row; then ``copier update --data auth=token`` and ``--data tasks=celery``,
one after the other in either order, or both at once (one order per database). After
each update: ``flask db upgrade``, every row kept, no drift (``flask db check`` refuses a
database behind its head), and the next ``flask db migrate`` works without a flag.
Users from before sign-in get no usable password; an admin made afterwards signs in.
Turned off again, a feature's migrations stay and its tables and columns with them,
until the owners' own migration drops them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .live import ADMIN_PASSWORD, live_project
from .matrix import matrix_defaults
from .owners import PACKAGE
from .releases import commit_all, copy_project, data_args, new_template_repo, update_project
from .tools import python_for, require_server, run_suite

OWNER_MODEL = '''

class Note(Model):
    """The owners' own table, with a migration of their own."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
'''
# The order the features are turned on in, one per database: the (auth first),
# the other, and both in one update.
TOGGLES = {
    "sqlite": [{"auth": "token"}, {"tasks": "celery"}],
    "postgresql": [{"tasks": "celery"}, {"auth": "token"}],
    "mysql": [{"auth": "token", "tasks": "celery"}],
}
# A feature turned off afterwards: the migrations its database ran, and the tables and
# columns they made, what `flask db check` then reports, and what drops them.
TURNED_OFF = {
    "sqlite": ({"tasks": "none"}, "0004_deliveries.py", "remove_table", "deliveries"),
    "postgresql": ({"auth": "none"}, "0005_revoked_tokens.py", "remove_column", "password_hash"),
}


@pytest.mark.parametrize("database", list(TOGGLES))
def test_features_turned_on_later_keep_the_live_database_whole(
    database: str,
    database_servers: dict[str, str | None],
    suite_environments: Path,
    tmp_path: Path,
) -> None:
    server = require_server(database, database_servers)
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    answers = {"database": database, "auth": "none", "tasks": "none"}
    project = copy_project(template, tmp_path / "project", answers)
    python = python_for(matrix_defaults()["min_python"])

    with live_project(project, python, server) as live:
        # The owners' day one: a live database with a user, their own table and a row.
        live.flask("db", "upgrade")
        live.flask("create-admin", "first@example.com")
        models = project / "src" / PACKAGE / "models.py"
        models.write_text(models.read_text() + OWNER_MODEL)
        live.flask("db", "migrate", "-m", "notes")
        live.flask("db", "upgrade")
        live.sql("INSERT INTO notes (text) VALUES ('kept')")
        commit_all(project, "Notes, with their migration")

        for toggle in TOGGLES[database]:
            update = update_project(project, *data_args(toggle))

            assert update.returncode == 0, update.stdout + update.stderr
            assert "Joined the migration heads" in update.stdout + update.stderr
            live.install()
            live.flask("db", "upgrade")
            # At the one head (check refuses a database behind it), with no drift.
            assert "No new upgrade operations detected" in live.flask("db", "check")
            kept = live.sql("SELECT text FROM notes", "SELECT email, role FROM users")
            assert kept == "[('kept',)]\n[('first@example.com', 'admin')]\n"
            commit_all(project, f"Turn on {toggle}")

        tables = live.sql("SELECT COUNT(*) FROM deliveries", "SELECT COUNT(*) FROM revoked_tokens")
        assert tables == "[(0,)]\n[(0,)]\n"
        # The user from before sign-in has no password yet; an admin made now signs in.
        live.flask("create-admin", "second@example.com")
        assert live.logins(ADMIN_PASSWORD, "first@example.com", "second@example.com") == [401, 200]
        # The owners' next change starts from the one head, with no flag.
        assert "Generating" in live.flask("db", "migrate", "-m", "next change")
        for empty in (project / "src" / PACKAGE / "migrations" / "versions").glob(
            "*next_change.py"
        ):
            empty.unlink()
        # The project's own suite passes with both features on, on its database: the
        # migrations go down to base and up again through the merges and the owners' own.
        suite = run_suite(project, python, server, "-rA", environments=suite_environments)
        assert "PASSED tests/integration/test_migrations.py::test_downgrade" in suite.output

        if database not in TURNED_OFF:
            return
        toggle, kept_file, operation, dropped = TURNED_OFF[database]
        update = update_project(project, *data_args(toggle))

        assert update.returncode == 0, update.stdout + update.stderr
        assert f"{kept_file}, which the update deleted" in update.stdout
        assert (project / "src" / PACKAGE / "migrations" / "versions" / kept_file).exists()
        live.install()
        live.flask("db", "upgrade")
        drift = live.flask("db", "check", succeeds=False)
        assert operation in drift
        assert dropped in drift
        kept = live.sql("SELECT text FROM notes", "SELECT email FROM users ORDER BY id")
        assert kept == "[('kept',)]\n[('first@example.com',), ('second@example.com',)]\n"
        # The owners decide: a migration of theirs drops what the feature left.
        commit_all(project, f"Turn off {toggle}")
        live.flask("db", "migrate", "-m", "drop what the feature left")
        live.flask("db", "upgrade")
        assert "No new upgrade operations detected" in live.flask("db", "check")
