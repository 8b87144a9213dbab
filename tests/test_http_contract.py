"""The generated service under gunicorn, probed over real HTTP from this process.

One project per error schema and auth mode (SQLite): migrations applied with
`flask db upgrade`, an admin made with `flask create-admin`, then every endpoint
of the contract and every row of its error table, in the chosen schema.
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import Renders
from .matrix import Combination, matrix_defaults, matrix_questions
from .tools import clean_environment, install_project, python_for, run

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
SECRET_KEY = "contract-test-secret-key-0123456789abcdef"


def variants() -> list[Any]:
    params = []
    names = list(matrix_questions())
    for schema in matrix_questions()["error_schema"]:
        for auth in matrix_questions()["auth"]:
            answers = matrix_defaults() | {"error_schema": schema, "auth": auth}
            combo = Combination(tuple((n, answers[n]) for n in names))
            params.append(pytest.param(combo, id=f"{schema}-{auth}"))
    return params


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
    def __init__(self, port: int, combo: Combination) -> None:
        self.port = port
        self.combo = combo
        self.token_auth = combo["auth"] == "token"
        self.problem = combo["error_schema"] == "problem"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> Reply:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def send_raw(self, path: str, body: bytes, media_type: str, headers: dict[str, str]) -> Reply:
        """POST ``body`` as is, with its own Content-Type."""
        return self.request("POST", path, body=body, headers=headers | {"Content-Type": media_type})

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def service(request: pytest.FixtureRequest, renders: Renders, tmp_path: Path) -> Iterator[Service]:
    combo: Combination = request.param
    python = python_for(combo["min_python"])
    project = tmp_path / "project"
    shutil.copytree(renders.get(combo), project)
    env = clean_environment() | {
        "APP_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'contract.sqlite3'}",
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LOG_FORMAT": "json",
    }
    venv = install_project(project, python, env)
    for command in (["db", "upgrade"], ["create-admin", ADMIN_EMAIL], ["check-deploy"]):
        done = run([str(venv / "flask"), "--app", "my_service", *command], cwd=project, env=env)
        assert done.returncode == 0, f"flask {' '.join(command)}: {done.stdout}{done.stderr}"

    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(venv / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "my_service:create_app()",
        ],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        service = Service(port, combo)
        deadline = time.monotonic() + 30
        while True:
            try:
                if service.request("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.2)
        yield service
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.parametrize("service", variants(), indirect=True)
def test_the_contract_holds_over_http(service: Service) -> None:
    auth: dict[str, str] = {}
    if service.token_auth:
        login = service.request(
            "POST",
            "/api/v1/auth/login",
            json_body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        )
        assert login.status == 200, login.body
        token = login.json["data"]
        assert (token["token_type"], type(token["expires_in"])) == ("Bearer", int)
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        bad = service.request(
            "POST", "/api/v1/auth/login", json_body={"email": ADMIN_EMAIL, "password": "nope-nope"}
        )
        service.assert_error(bad, 401, "UNAUTHORIZED")

    # Operations.
    assert service.request("GET", "/healthz").json == {"status": "ok"}
    assert service.request("GET", "/readyz").json == {"status": "ready"}
    spec = service.request("GET", "/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert service.request("GET", "/docs").media_type == "text/html"
    echoed = service.request("GET", "/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["X-Request-ID"] == "trace-42"

    # Users.
    new_user: dict[str, Any] = {"email": "Grace@Example.com", "name": "Grace"}
    if service.token_auth:
        new_user["password"] = "grace-password-1"
    created = service.request("POST", "/api/v1/users", json_body=new_user, headers=auth)
    assert created.status == 201, created.body
    user = created.json["data"]
    assert user["email"] == "grace@example.com"
    assert created.headers["Location"] == f"/api/v1/users/{user['id']}"
    for path in ("/api/v1/users", "/api/v1/users/"):
        listed = service.request("GET", path, headers=auth)
        assert listed.status == 200
        assert set(listed.json) == {"data", "meta"}
    assert service.request("GET", f"/api/v1/users/{user['id']}", headers=auth).status == 200
    patched = service.request(
        "PATCH", f"/api/v1/users/{user['id']}", json_body={"name": "Grace H"}, headers=auth
    )
    assert patched.json["data"]["name"] == "Grace H"

    # Posts.
    new_post: dict[str, Any] = {"title": "Hello", "body": "World"}
    if not service.token_auth:
        new_post["author_id"] = user["id"]
    post = service.request("POST", "/api/v1/posts", json_body=new_post, headers=auth)
    assert post.status == 201, post.body
    post_id = post.json["data"]["id"]
    assert post.headers["Location"] == f"/api/v1/posts/{post_id}"
    newest = service.request("GET", "/api/v1/posts?per_page=1").json
    assert newest["meta"]["per_page"] == 1
    assert newest["data"][0]["id"] == post_id
    assert service.request("GET", f"/api/v1/posts/{post_id}").status == 200
    assert (
        service.request(
            "PATCH", f"/api/v1/posts/{post_id}", json_body={"title": "Hi"}, headers=auth
        ).status
        == 200
    )

    # Every row of the error table.
    check = service.assert_error
    check(service.send_raw("/api/v1/posts", b"{nope", "application/json", auth), 400, "BAD_REQUEST")
    form = service.send_raw("/api/v1/posts", b"title=x", "application/x-www-form-urlencoded", auth)
    check(form, 415, "UNSUPPORTED_MEDIA_TYPE")
    details = check(
        service.request(
            "POST", "/api/v1/posts", json_body={"title": "x", "extra": 1}, headers=auth
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert "extra" in details
    check(service.request("GET", "/api/v1/posts?per_page=101"), 422, "VALIDATION_ERROR")
    check(service.request("GET", "/api/v1/posts/999999"), 404, "NOT_FOUND")
    check(service.request("GET", "/no/such/route"), 404, "NOT_FOUND")
    not_allowed = service.request("PUT", f"/api/v1/posts/{post_id}", json_body={})
    check(not_allowed, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in not_allowed.headers["Allow"]
    check(
        service.request("POST", "/api/v1/users", json_body=new_user, headers=auth), 409, "CONFLICT"
    )
    big = b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    check(
        service.send_raw("/api/v1/posts", big, "application/json", auth), 413, "PAYLOAD_TOO_LARGE"
    )
    if service.token_auth:
        anonymous = service.request("POST", "/api/v1/posts", json_body={"title": "t", "body": "b"})
        check(anonymous, 401, "UNAUTHORIZED")
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
        member_login = service.request(
            "POST",
            "/api/v1/auth/login",
            json_body={"email": "grace@example.com", "password": "grace-password-1"},
        )
        member = {"Authorization": f"Bearer {member_login.json['data']['access_token']}"}
        check(
            service.request("DELETE", f"/api/v1/users/{user['id']}", headers=member),
            403,
            "FORBIDDEN",
        )

    # Deletes, then metrics saw it all.
    assert service.request("DELETE", f"/api/v1/posts/{post_id}", headers=auth).status == 204
    gone = service.request("DELETE", f"/api/v1/users/{user['id']}", headers=auth)
    assert (gone.status, gone.body) == (204, b"")
    # With two workers, /metrics must add up both (prometheus multiprocess mode).
    before = healthz_count(service)
    for _ in range(20):
        service.request("GET", "/healthz")
    assert healthz_count(service) == before + 20


def healthz_count(service: Service) -> float:
    text = service.request("GET", "/metrics").body.decode()
    for line in text.splitlines():
        wanted = 'endpoint="health.healthz"' in line and 'status="200"' in line
        if line.startswith("http_requests_total{") and wanted:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
