"""A rendered project served by gunicorn with its own gunicorn.conf.py, probed over HTTP.

Everything here talks to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from .matrix import Combination
from .tools import IN_CI, clean_environment, install_project, python_for, run

PACKAGE = "my_service"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
SECRET_KEY = "contract-test-secret-key-0123456789abcdef"
REDIS_URL = os.environ.get("TEMPLATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()


class Service:
    def __init__(self, port: int, combo: Combination, log: Path) -> None:
        self.port = port
        self.combo = combo
        self.log = log
        self.token_auth = combo["auth"] == "token"
        self.problem = combo["error_schema"] == "problem"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        timeout: float = 10,
    ) -> Reply:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def send_raw(self, path: str, body: bytes, media_type: str, headers: dict[str, str]) -> Reply:
        """POST ``body`` as is, with its own Content-Type."""
        return self.request("POST", path, body=body, headers=headers | {"Content-Type": media_type})

    def raw_exchange(self, data: bytes, timeout: float = 10) -> bytes:
        """Send ``data`` on a fresh connection as it is; what the server answers.

        The answer is read while sending: a server may answer (413, say) and close
        before the client has sent everything.
        """
        received: list[bytes] = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:

            def read() -> None:
                try:
                    while chunk := sock.recv(65536):
                        received.append(chunk)
                except OSError:
                    return

            reader = threading.Thread(target=read)
            reader.start()
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server stopped reading: its answer is what counts
            reader.join(timeout)
        return b"".join(received)

    def raw_reply(self, data: bytes, timeout: float = 10) -> Reply:
        """``raw_exchange``, its answer read as HTTP."""
        answer = self.raw_exchange(data, timeout)

        class Received:
            def makefile(self, *_args: Any, **_kwargs: Any) -> io.BytesIO:
                return io.BytesIO(answer)

        response = http.client.HTTPResponse(Received())  # type: ignore[arg-type]
        response.begin()
        return Reply(response.status, response.headers, response.read())

    def login(self, email: str, password: str) -> Reply:
        return self.request(
            "POST", "/api/v1/auth/login", json_body={"email": email, "password": password}
        )

    def bearer(self, email: str, password: str) -> dict[str, str]:
        reply = self.login(email, password)
        assert reply.status == 200, reply.body
        return {"Authorization": f"Bearer {reply.json['data']['access_token']}"}

    def assert_error(self, reply: Reply, status: int, code: str) -> dict[str, Any]:
        text = reply.body.decode("utf-8", "replace")
        assert reply.status == status, text
        assert "Traceback" not in text
        assert reply.headers.get("X-Request-ID")
        if self.problem:
            assert reply.media_type == "application/problem+json"
            problem = reply.json
            assert (problem["status"], problem["code"], problem["type"]) == (
                status,
                code,
                "about:blank",
            )
            assert problem["title"]
            assert problem["detail"]
            return problem.get("errors") or {}
        assert reply.media_type == "application/json"
        assert list(reply.json) == ["error"]
        error = reply.json["error"]
        assert error["code"] == code
        assert error["message"]
        return error.get("details") or {}


# A body the schema allows may still name a row that does not exist (a resource's
# reference, tests/scaffolds.py): the service answers 422 naming the field, as the
# contract says, and the tester must not count that as valid data refused.
TESTER_CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_url() -> str:
    """The Redis that served projects count login attempts in; skip (fail under CI) if down."""
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=3):
            return REDIS_URL
    except OSError:
        message = (
            f"no Redis answers at {REDIS_URL}: start one or point TEMPLATE_TEST_REDIS_URL at one"
        )
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


def delete_keys(prefix: str) -> None:
    """Remove a test's login-limit keys from Redis (plain RESP: no client library here)."""
    parts = urlsplit(REDIS_URL)
    script = "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end"
    words = [b"EVAL", script.encode(), b"0", f"{prefix}:*".encode()]
    command = f"*{len(words)}\r\n".encode() + b"".join(
        f"${len(word)}\r\n".encode() + word + b"\r\n" for word in words
    )
    with socket.create_connection((parts.hostname, parts.port or 6379), timeout=5) as sock:
        sock.sendall(command)
        sock.recv(1024)


class Project:
    """A rendered project installed in its own virtual environment, with a database."""

    def __init__(self, source: Path, combo: Combination, tmp_path: Path, server: str | None):
        self.combo = combo
        self.root = tmp_path / "project"
        shutil.copytree(source, self.root)
        self.python = python_for(combo["min_python"])
        self.prefix = f"served-{uuid.uuid4().hex[:12]}"
        self.env = clean_environment() | {
            "APP_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "LOG_FORMAT": "json",
            # Its Redis keys (login limits; Celery's broker and task counters) under one prefix.
            "RATELIMIT_KEY_PREFIX": self.prefix,
            "CELERY_KEY_PREFIX": f"{self.prefix}:",
        }
        self.venv = install_project(self.root, self.python, self.env)
        self.server = server
        self.database_name = f"served_{uuid.uuid4().hex[:12]}"
        if server is None:
            self.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        else:
            self.env["DATABASE_URL"] = self._create_server_database(server)

    def _admin_sql(self, server: str, statement: str) -> None:
        code = (
            "import sys, sqlalchemy\n"
            "engine = sqlalchemy.create_engine(sys.argv[1], isolation_level='AUTOCOMMIT')\n"
            "with engine.connect() as c: c.exec_driver_sql(sys.argv[2])\n"
            "engine.dispose()\n"
        )
        done = run([str(self.venv / "python"), "-c", code, server, statement], env=self.env)
        assert done.returncode == 0, done.stderr

    def _create_server_database(self, server: str) -> str:
        self._admin_sql(server, f"CREATE DATABASE {self.database_name}")
        parts = urlsplit(server)
        return urlunsplit(parts._replace(path=f"/{self.database_name}"))

    def drop_database(self) -> None:
        if self.server is not None:
            self._admin_sql(self.server, f"DROP DATABASE IF EXISTS {self.database_name}")

    def flask(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run(
            [str(self.venv / "flask"), "--app", PACKAGE, *args], cwd=self.root, env=env or self.env
        )

    def prepare(self) -> None:
        for command in (["db", "upgrade"], ["create-admin", ADMIN_EMAIL], ["check-deploy"]):
            done = self.flask(*command)
            assert done.returncode == 0, f"flask {' '.join(command)}: {done.stdout}{done.stderr}"

    def api_tester_finds_nothing(self, service: Service) -> None:
        """schemathesis against the served document, every check, signed in as the admin.

        Its stateful phase may change the admin's password: the module's tokens end.
        """
        admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
        config = self.root.parent / "schemathesis.toml"
        config.write_text(TESTER_CONFIG)
        done = run(
            [
                str(self.venv / "st"),
                "--config-file",
                str(config),
                "run",
                f"http://127.0.0.1:{service.port}/openapi.json",
                *("--checks", "all", "--header", f"Authorization: {admin['Authorization']}"),
                # These end the tester's own token, and every operation after them would
                # test only the 401 (tested over HTTP in test_hostile_http.py).
                *("--exclude-operation-id", "logout", "--exclude-operation-id", "revokeTokens"),
                *("--max-examples", "15", "--seed", "20261123", "--no-color"),
            ],
            cwd=self.root,
            env=self.env,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        summary = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
        assert summary is not None, done.stdout[-2000:]
        assert int(summary[1]) == int(summary[2]) > 100

    @contextmanager
    def serve(self, workers: int, **env: str) -> Iterator[Service]:
        """gunicorn with the project's gunicorn.conf.py (read from its folder)."""
        port = free_port()
        log_path = self.root / f"gunicorn-{port}.log"
        settings = self.env | {
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
        }
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [str(self.venv / "gunicorn"), f"{PACKAGE}:create_app()"],
                cwd=self.root,
                env=settings | env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                service = Service(port, self.combo, log_path)
                wait_until_ready(service, server)
                yield service
            finally:
                stop(server)


@contextmanager
def prepared_project(
    source: Path, combo: Combination, tmp_path: Path, server: str | None, **env: str
) -> Iterator[Project]:
    """``combo`` installed, migrated and given its admin, with ``env`` added to its settings.

    Its Redis keys (under its prefix) and its server database go afterwards.
    """
    project = Project(source, combo, tmp_path, server)
    project.env |= env
    try:
        project.prepare()
        yield project
    finally:
        delete_keys(project.prefix)
        project.drop_database()


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, time to finish in-flight requests, then SIGKILL."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def trickle(port: int, request: bytes, until: float) -> None:
    """Send ``request`` one byte a second until ``until`` (a slow or hostile client)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            for byte in request:
                if time.monotonic() > until:
                    return
                sock.send(bytes([byte]))
                time.sleep(1)
    except OSError:
        return


def wait_until_ready(service: Service, server: subprocess.Popen[bytes]) -> None:
    """Until every worker has imported the app: a few answers in a row from /healthz."""
    deadline = time.monotonic() + 60
    answered = 0
    while answered < 8:
        try:
            answered = answered + 1 if service.request("GET", "/healthz").status == 200 else 0
        except OSError:
            answered = 0
        assert server.poll() is None, service.log.read_text()
        assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
        time.sleep(0.1)


@contextmanager
def served_on_sqlite(source: Path, combo: Combination, tmp_path: Path) -> Iterator[Service]:
    """``combo`` (rendered at ``source``) migrated, with its admin, served by two workers."""
    # Login limits and the Celery broker keep their keys in Redis, under the project's prefix.
    uses_redis = combo["auth"] == "token" or combo["tasks"] == "celery"
    if uses_redis:
        redis_url()
    project = Project(source, combo, tmp_path, server=None)
    project.prepare()
    try:
        with project.serve(workers=2) as service:
            yield service
    finally:
        if uses_redis:
            delete_keys(project.prefix)
