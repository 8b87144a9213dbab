"""Features turned on later, over a live database that holds rows and its owners' migration.

The issue's reproduction, as an owner types it: a project made with ``auth=none`` and
``tasks=none``, a migrated database with a user, a table of the owners' own with its
migration and a row; then ``copier update --data auth=token`` and ``--data tasks=celery``,
one after the other in either order, or both at once (one order per database). After
each update: ``flask db upgrade``, every row kept, no drift (``flask db check`` refuses a
database behind its head), and the next ``flask db migrate`` works without a flag.
Users from before sign-in get no usable password; an admin made afterwards signs in.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .matrix import matrix_defaults
from .owners import PACKAGE
from .releases import commit_all, copy_project, data_args, new_template_repo, update_project
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
# Who may sign in, asked of the app itself over the live database.
LOGINS = f"""
import json, sys
from {PACKAGE} import create_app
client = create_app().test_client()
print(json.dumps([
    client.post("/api/v1/auth/login", json={{"email": email, "password": sys.argv[1]}}).status_code
    for email in sys.argv[2:]
]))
"""
OWNER_PASSWORD = "owner-password-123"
# The order the features are turned on in, one per database: the (auth first),
# the other, and both in one update.
TOGGLES = {
    "sqlite": [{"auth": "token"}, {"tasks": "celery"}],
    "postgresql": [{"tasks": "celery"}, {"auth": "token"}],
    "mysql": [{"auth": "token", "tasks": "celery"}],
}


def server_database(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


@pytest.mark.parametrize("database", list(TOGGLES))
def test_features_turned_on_later_keep_the_live_database_whole(
    database: str, database_servers: dict[str, str | None], tmp_path: Path
) -> None:
    server = require_server(database, database_servers)
    template = new_template_repo(tmp_path / "template")
    template.release("v1.0.0", "Release 1.0.0")
    answers = {"database": database, "auth": "none", "tasks": "none"}
    project = copy_project(template, tmp_path / "project", answers)
    python = python_for(matrix_defaults()["min_python"])
    env = clean_environment() | {"ADMIN_PASSWORD": OWNER_PASSWORD}
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
        flask("create-admin", "first@example.com")
        models = project / "src" / PACKAGE / "models.py"
        models.write_text(models.read_text() + OWNER_MODEL)
        flask("db", "migrate", "-m", "notes")
        flask("db", "upgrade")
        sql("INSERT INTO notes (text) VALUES ('kept')")
        commit_all(project, "Notes, with their migration")

        for toggle in TOGGLES[database]:
            update = update_project(project, *data_args(toggle))

            assert update.returncode == 0, update.stdout + update.stderr
            assert "Joined the migration heads" in update.stdout + update.stderr
            venv = install_project(project, python, env)
            flask("db", "upgrade")
            # At the one head (check refuses a database behind it), with no drift.
            assert "No new upgrade operations detected" in flask("db", "check")
            kept = sql("SELECT text FROM notes", "SELECT email, role FROM users")
            assert kept == "[('kept',)]\n[('first@example.com', 'admin')]\n"
            commit_all(project, f"Turn on {toggle}")

        assert sql("SELECT COUNT(*) FROM deliveries", "SELECT COUNT(*) FROM revoked_tokens") == (
            "[(0,)]\n[(0,)]\n"
        )
        # The user from before sign-in has no password yet; an admin made now signs in.
        flask("create-admin", "second@example.com")
        logins = run(
            [str(venv / "python"), "-c", LOGINS, OWNER_PASSWORD, "first@example.com"]
            + ["second@example.com"],
            cwd=project,
            env=env | {"APP_ENV": "development"},
        )
        assert logins.returncode == 0, logins.stderr
        assert json.loads(logins.stdout.splitlines()[-1]) == [401, 200]
        # The owners' next change starts from the one head, with no flag.
        flask("db", "migrate", "-m", "next change")
    finally:
        if server is not None:
            sql(f"DROP DATABASE IF EXISTS {name}", url=server)
