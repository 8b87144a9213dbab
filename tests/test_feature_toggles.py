"""A feature turned on later, over a live database that has a migration of its owners.

The owners' first change is the common one: a model and ``flask db migrate``. Turning
background tasks on afterwards (``copier update --data tasks=celery``) brings the
template's deliveries migration, which revises the template's head, not theirs: without
the update's merge step Alembic would see two heads and ``flask db upgrade`` would stop.
On each database, as an owner types it: upgrade, rows kept, no drift, the next
``flask db migrate`` works.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .matrix import matrix_defaults
from .owners import PACKAGE
from .releases import commit_all, copy_project, new_template_repo, update_project
from .tools import clean_environment, install_project, python_for, require_server, run

OWNER_MODEL = '''

class Note(Model):
    """The owners' own table, with a migration of their own."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
'''
SQL = """
import sys, sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as connection:
    for statement in sys.argv[2:]:
        rows = connection.exec_driver_sql(statement)
        if rows.returns_rows:
            print(rows.all())
engine.dispose()
"""


def server_database(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_tasks_turned_on_over_a_database_with_the_owners_migration(
    database: str, database_servers: dict[str, str | None], tmp_path: Path
) -> None:
    server = require_server(database, database_servers)
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    project = copy_project(template, tmp_path / "project", {"database": database})
    python = python_for(matrix_defaults()["min_python"])
    env = clean_environment() | {"ADMIN_PASSWORD": "owner-password-123"}
    name = f"toggle_{uuid.uuid4().hex[:12]}"
    if server is None:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    else:
        env["DATABASE_URL"] = server_database(server, name)
    venv = install_project(project, python, env)

    def sql(*statements: str, url: str = env["DATABASE_URL"]) -> str:
        done = run([str(venv / "python"), "-c", SQL, url, *statements], env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def flask(*args: str) -> str:
        done = run([str(venv / "flask"), "--app", PACKAGE, *args], cwd=project, env=env)
        assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout + done.stderr

    if server is not None:
        sql(f"CREATE DATABASE {name}", url=server)
    try:
        # The owners' day one: a live database with a user, their own table and a row.
        flask("db", "upgrade")
        flask("create-admin", "owner@example.com")
        models = project / "src" / PACKAGE / "models.py"
        models.write_text(models.read_text() + OWNER_MODEL)
        flask("db", "migrate", "-m", "notes")
        flask("db", "upgrade")
        sql("INSERT INTO notes (text) VALUES ('kept')")
        commit_all(project, "Notes, with their migration")

        update = update_project(project, "--data", "tasks=celery")

        assert update.returncode == 0, update.stdout + update.stderr
        venv = install_project(project, python, env)
        flask("db", "upgrade")
        assert "Joined the migration heads" in update.stdout + update.stderr
        # At the one head (check refuses a database behind it), with no drift.
        assert "No new upgrade operations detected" in flask("db", "check")
        kept = sql(
            "SELECT text FROM notes", "SELECT email FROM users", "SELECT COUNT(*) FROM deliveries"
        )
        assert kept == "[('kept',)]\n[('owner@example.com',)]\n[(0,)]\n"
        # The owners' next change starts from that head, with no flag.
        flask("db", "migrate", "-m", "next change")
    finally:
        if server is not None:
            sql(f"DROP DATABASE IF EXISTS {name}", url=server)
