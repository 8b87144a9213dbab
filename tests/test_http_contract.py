"""The generated service under gunicorn, probed over real HTTP from this process.

One project per error schema, auth mode and task choice (SQLite): migrations applied with
`flask db upgrade`, an admin made with `flask create-admin`, then every endpoint
of the contract and every row of its error table, in the chosen schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .matrix import Combination, default_combination, matrix_questions
from .renders import Renders
from .served import ADMIN_EMAIL, ADMIN_PASSWORD, Service, served_on_sqlite


def variants() -> list[Any]:
    return [
        pytest.param(
            default_combination(error_schema=schema, auth=auth, tasks=tasks),
            id=f"{schema}-{auth}-{tasks}",
        )
        for schema in matrix_questions()["error_schema"]
        for auth in matrix_questions()["auth"]
        for tasks in matrix_questions()["tasks"]
    ]


@pytest.fixture
def service(request: pytest.FixtureRequest, renders: Renders, tmp_path: Path) -> Iterator[Service]:
    combo: Combination = request.param
    with served_on_sqlite(renders.get(combo), combo, tmp_path) as service:
        yield service


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
    # Refused by gunicorn before the app sees them, answered in the same schema.
    check(service.request("GET", "/api/v1/posts/" + "9" * 9000), 414, "URI_TOO_LONG")
    padded = service.request("GET", "/api/v1/posts", headers={"X-Padding": "x" * 9000})
    check(padded, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
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
        # Accounts: one's own password takes the current one; another user's email and role
        # are for admins; logout ends the token it is sent with.
        own = f"/api/v1/users/{user['id']}"
        change = {"password": "grace-password-2"}
        missing = service.request("PATCH", own, json_body=change, headers=member)
        assert "current_password" in str(check(missing, 422, "VALIDATION_ERROR"))
        wrong = change | {"current_password": "not-grace-1"}
        check(service.request("PATCH", own, json_body=wrong, headers=member), 403, "FORBIDDEN")
        admin_row = service.request("GET", "/api/v1/users/1", headers=member).json["data"]
        assert set(admin_row) == {"id", "name", "created_at"}
        assert service.request("POST", "/api/v1/auth/logout", headers=member).status == 204
        check(service.request("GET", own, headers=member), 401, "UNAUTHORIZED")
        assert service.request("DELETE", f"{own}/tokens", headers=auth).status == 204

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
