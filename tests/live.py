"""A generated project run as its owners run it: installed, over a live database of its own.

For the tests that change a project (an update, a feature turned on) while its database
holds rows: ``flask`` commands as typed, SQL to read and write rows, and the app asked
who may sign in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .owners import PACKAGE
from .tools import clean_environment, install_project, run

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
ADMIN_PASSWORD = "owner-password-123"


@dataclass
class LiveProject:
    project: Path
    python: str
    env: dict[str, str]
    bin: Path

    def install(self) -> None:
        """``uv sync`` again, after an update changed the lock."""
        self.bin = install_project(self.project, self.python, self.env)

    def sql(self, *statements: str, url: str | None = None) -> str:
        """Each statement's rows, a line each."""
        url = url or self.env["DATABASE_URL"]
        done = run([str(self.bin / "python"), "-c", SQL, url, *statements], env=self.env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def flask(self, *args: str, succeeds: bool = True) -> str:
        """``flask <args>``'s output; it must succeed, or fail when ``succeeds`` is False."""
        command = [str(self.bin / "flask"), "--app", PACKAGE, *args]
        done = run(command, cwd=self.project, env=self.env)
        output = done.stdout + done.stderr
        assert (done.returncode == 0) == succeeds, f"flask {' '.join(args)}:\n{output}"
        return output

    def logins(self, password: str, *emails: str) -> list[int]:
        """The status of POST /api/v1/auth/login for each email with ``password``."""
        env = self.env | {"APP_ENV": "development"}
        command = [str(self.bin / "python"), "-c", LOGINS, password, *emails]
        done = run(command, cwd=self.project, env=env)
        assert done.returncode == 0, done.stderr
        statuses: list[int] = json.loads(done.stdout.splitlines()[-1])
        return statuses


@contextmanager
def live_project(project: Path, python: str, server: str | None) -> Iterator[LiveProject]:
    """``project`` installed, with a database of its own on ``server`` (SQLite when None),
    dropped afterwards; ``flask create-admin`` reads ``ADMIN_PASSWORD``.
    """
    # Early releases refuse to start without a secret key of the owners' own.
    secret_key = uuid.uuid4().hex * 2
    env = clean_environment() | {"ADMIN_PASSWORD": ADMIN_PASSWORD, "SECRET_KEY": secret_key}
    name = f"live_{uuid.uuid4().hex[:12]}"
    if server is None:
        env["DATABASE_URL"] = f"sqlite:///{project.parent / f'{name}.sqlite3'}"
    else:
        env["DATABASE_URL"] = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    live = LiveProject(project, python, env, install_project(project, python, env))
    if server is not None:
        live.sql(f"CREATE DATABASE {name}", url=server)
    try:
        yield live
    finally:
        if server is not None:
            live.sql(f"DROP DATABASE IF EXISTS {name}", url=server)
