"""The served service against hostile clients and careless operators, over real HTTP.

A default project (token auth) runs under gunicorn with its own gunicorn.conf.py,
four workers and production settings, its login attempts counted in a real Redis:
on SQLite, PostgreSQL and MySQL for the token rules and the shared login limit, and
on SQLite for slow clients, hostile values, forged headers and unsafe configuration.
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .matrix import default_combination
from .owners import PACKAGE
from .renders import Renders, jinja_compiled_once, without_git
from .scaffolds import add_resources
from .served import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Project,
    Service,
    delete_keys,
    prepared_project,
    redis_url,
    trickle,
)
from .tools import require_server, run, tool

WORKERS = 4
# Rounds of a member posting while an admin deletes it.
RACES = 15
# The limit the generated config sets by default: failed logins per (client, account).
LOGIN_LIMIT = 10


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def project(
    request: pytest.FixtureRequest,
    renders: Renders,
    database_servers: dict[str, str | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Project]:
    redis_url()
    server = require_server(request.param, database_servers)
    combo = default_combination(database=request.param)
    tmp_path = tmp_path_factory.mktemp(f"served-{request.param}")
    # With the resources `flask scaffold` adds: the hostile requests and the API tester
    # reach them too.
    source = tmp_path / "source"
    shutil.copytree(renders.get(combo), source)
    with without_git(), jinja_compiled_once():
        add_resources(renders.template, source, PACKAGE)
    with prepared_project(source, combo, tmp_path, server) as served:
        yield served


@pytest.fixture(scope="module")
def service(project: Project) -> Iterator[Service]:
    with project.serve(workers=WORKERS) as service:
        yield service


@pytest.fixture(autouse=True)
def fresh_login_limits(project: Project) -> None:
    """Each test starts with the login budget a client has after a quiet minute.

    The tests of one module share a service, and several sign in as the admin: together,
    within one minute, they would reach the per-account limit and see 429s of another test's
    making. The limit itself is tested where it is the subject.
    """
    delete_keys(project.prefix)


def create_user(service: Service, admin: dict[str, str], email: str, role: str) -> int:
    body = {"email": email, "name": email.split("@")[0], "password": "long-password", "role": role}
    reply = service.request("POST", "/api/v1/users", json_body=body, headers=admin)
    assert reply.status == 201, reply.body
    return int(reply.json["data"]["id"])


def test_old_tokens_stop_working_and_never_name_someone_else(service: Service) -> None:
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)

    # Deleted: the token dies, and the next user, an admin, does not inherit it.
    gone_id = create_user(service, admin, "gone@example.com", "member")
    gone = service.bearer("gone@example.com", "long-password")
    assert service.request("DELETE", f"/api/v1/users/{gone_id}", headers=admin).status == 204
    heir_id = create_user(service, admin, "heir@example.com", "admin")
    assert heir_id > gone_id
    stale = service.request("POST", "/api/v1/users", headers=gone, json_body={})
    service.assert_error(stale, 401, "UNAUTHORIZED")

    # A new password: tokens issued before stop working.
    member_id = create_user(service, admin, "member@example.com", "member")
    member = service.bearer("member@example.com", "long-password")
    changed = service.request(
        "PATCH", f"/api/v1/users/{member_id}", headers=admin, json_body={"password": "new-pass-1"}
    )
    assert changed.status == 200
    service.assert_error(
        service.request("GET", "/api/v1/users", headers=member), 401, "UNAUTHORIZED"
    )

    # Demoted: the admin token stops working everywhere, and cannot create users.
    demoted = service.bearer("heir@example.com", "long-password")
    patched = service.request(
        "PATCH", f"/api/v1/users/{heir_id}", headers=admin, json_body={"role": "member"}
    )
    assert patched.status == 200
    refused = service.request("POST", "/api/v1/users", headers=demoted, json_body={})
    service.assert_error(refused, 401, "UNAUTHORIZED")


def security_events(service: Service) -> list[dict[str, Any]]:
    """The security events in the service's (JSON) log."""
    lines = service.log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [record for record in records if "event" in record]


def test_a_stolen_token_cannot_take_the_account_and_ended_tokens_stay_ended(
    project: Project, service: Service
) -> None:
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    create_user(service, admin, "victim@example.com", "member")
    victim_id = create_user(service, admin, "owner@example.com", "member")
    stolen = service.bearer("owner@example.com", "long-password")
    kept = service.bearer("owner@example.com", "long-password")
    own = f"/api/v1/users/{victim_id}"

    def statuses(headers: dict[str, str], rounds: int = 2 * WORKERS) -> set[int]:
        return {
            service.request("GET", "/api/v1/users", headers=headers).status for _ in range(rounds)
        }

    # The thief cannot change the password or the email without the current password.
    for change in ({"password": "thief-password"}, {"email": "thief@example.com"}):
        missing = service.request("PATCH", own, headers=stolen, json_body=change)
        assert "current_password" in str(service.assert_error(missing, 422, "VALIDATION_ERROR"))
        wrong = change | {"current_password": "a-guess-123"}
        refused = service.request("PATCH", own, headers=stolen, json_body=wrong)
        service.assert_error(refused, 403, "FORBIDDEN")
    assert statuses(stolen) == {200}
    # Nor harvest other users' emails and roles.
    listed = service.request("GET", "/api/v1/users?per_page=100", headers=stolen).json["data"]
    assert {frozenset(user) for user in listed if user["id"] != victim_id} == {
        frozenset({"id", "name", "created_at"})
    }

    # The owner logs the stolen token out: no worker, and no other instance, takes it again.
    assert service.request("POST", "/api/v1/auth/logout", headers=stolen).status == 204
    assert statuses(stolen) == {401}
    assert statuses(kept) == {200}
    with project.serve(workers=1) as another:
        assert another.request("GET", "/api/v1/users", headers=stolen).status == 401
        assert another.request("GET", "/api/v1/users", headers=kept).status == 200
    # Then ends every token it has.
    assert service.request("DELETE", f"{own}/tokens", headers=kept).status == 204
    assert statuses(kept) == {401}

    events = security_events(service)
    names = [event["event"] for event in events]
    for name in ("login_succeeded", "login_failed", "logout", "tokens_revoked", "access_denied"):
        assert name in names, names
    revoked = next(event for event in events if event["event"] == "tokens_revoked")
    assert revoked["user_id"] == victim_id
    assert revoked["client"] == "127.0.0.1"
    assert len(revoked["request_id"]) == 32
    log = service.log.read_text(encoding="utf-8")
    for secret in ("long-password", "a-guess-123", stolen["Authorization"].split()[1]):
        assert secret not in log


def test_the_login_limit_holds_across_workers(service: Service) -> None:
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    create_user(service, admin, "target@example.com", "member")

    def attempt(_: int) -> int:
        return service.login("target@example.com", "wrong-password").status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(40)))

    assert statuses.count(401) == LOGIN_LIMIT, statuses
    assert statuses.count(429) == 40 - LOGIN_LIMIT, statuses
    # The account under attack is locked for this client; other accounts are not.
    assert service.login("target@example.com", "long-password").status == 429
    assert service.login(ADMIN_EMAIL, ADMIN_PASSWORD).status == 200


def test_login_takes_as_long_for_unknown_emails_as_for_known_ones(service: Service) -> None:
    def seconds(email: str) -> float:
        started = time.perf_counter()
        reply = service.login(email, "not-the-password")
        elapsed = time.perf_counter() - started
        assert reply.status == 401, reply.body
        return elapsed

    known, unknown = [], []
    for _ in range(5):
        known.append(seconds(ADMIN_EMAIL))
        unknown.append(seconds("nobody-here@example.com"))

    # The fastest of each: a busy machine only ever adds time (a CI run once saw three of
    # four known-email attempts slowed threefold while the other worker ran a suite), and
    # an answer that skipped the password check would be fastest by far.
    ratio = min(known) / min(unknown)
    assert 1 / 3 < ratio < 3, (known, unknown)


def test_posts_racing_their_authors_deletion_never_fail(service: Service) -> None:
    """A member posts while an admin deletes the member: each post is made (201), refused
    for a token that no longer names anyone (401), or a conflict (409); never a 500.

    On PostgreSQL and MySQL the author can vanish between the service's check and the
    INSERT (the foreign key then refuses it); SQLite serialises the writes.
    """
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    statuses: Counter[int] = Counter()
    for n in range(RACES):
        email = f"racer{n}@example.com"
        member_id = create_user(service, admin, email, "member")
        member = service.bearer(email, "long-password")
        post = {"title": f"Race {n}", "body": "Posted while the author is deleted."}
        with ThreadPoolExecutor(max_workers=7) as pool:
            posts = [
                pool.submit(service.request, "POST", "/api/v1/posts", None, member, post)
                for _ in range(3)
            ]
            gone = pool.submit(service.request, "DELETE", f"/api/v1/users/{member_id}", None, admin)
            posts += [
                pool.submit(service.request, "POST", "/api/v1/posts", None, member, post)
                for _ in range(3)
            ]
        assert gone.result().status == 204
        statuses.update(future.result().status for future in posts)

    assert set(statuses) <= {201, 401, 409}, statuses
    assert statuses[201] > 0


# -- the rest on SQLite only ----------------------------------------------------------------


# The serving layer does not depend on the database: checked once, on SQLite.
on_sqlite = pytest.mark.parametrize("project", ["sqlite"], indirect=True)


@on_sqlite
def test_fifty_slow_clients_do_not_stop_the_service(service: Service) -> None:
    until = time.monotonic() + 30
    slow_headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    slow_body = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    clients = [
        threading.Thread(
            target=trickle, args=(service.port, slow_headers if n % 2 else slow_body, until)
        )
        for n in range(50)
    ]
    for client in clients:
        client.start()
    latencies = []
    try:
        time.sleep(2)
        while time.monotonic() < until - 1:
            started = time.perf_counter()
            reply = service.request("GET", "/healthz", timeout=5)
            latencies.append(time.perf_counter() - started)
            assert reply.status == 200
            time.sleep(0.5)
    finally:
        for client in clients:
            client.join(timeout=40)

    assert len(latencies) > 40
    assert max(latencies) < 2, sorted(latencies)[-5:]


@on_sqlite
def test_hostile_values_get_the_error_schema(service: Service) -> None:
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    json_type = "application/json"
    huge = b'{"title": ' + b"7" * 5000 + b', "body": "x"}'
    service.assert_error(
        service.send_raw("/api/v1/posts", huge, json_type, {}), 401, "UNAUTHORIZED"
    )
    service.assert_error(
        service.send_raw("/api/v1/posts", huge, json_type, admin), 400, "BAD_REQUEST"
    )
    service.assert_error(
        service.send_raw("/api/v1/auth/login", huge, json_type, {}), 400, "BAD_REQUEST"
    )
    nan = b'{"email": NaN, "password": "x"}'
    service.assert_error(
        service.send_raw("/api/v1/auth/login", nan, json_type, {}), 400, "BAD_REQUEST"
    )
    for method in ("GET", "PATCH", "DELETE"):
        for path in ("/api/v1/posts/2147483648", "/api/v1/users/99999999999999999999"):
            reply = service.request(method, path, headers=admin, json_body={"title": "x"})
            service.assert_error(reply, 404, "NOT_FOUND")
    no_type = service.request("POST", "/api/v1/posts", body=b'{"title": "t"}', headers=admin)
    service.assert_error(no_type, 415, "UNSUPPORTED_MEDIA_TYPE")


@on_sqlite
def test_requests_gunicorn_refuses_get_the_error_schema(service: Service) -> None:
    """gunicorn refuses these before the app sees them; the app still writes the answer."""
    get = b"GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    post = get.replace(b"GET", b"POST", 1) + b"Content-Type: application/json\r\n"
    too_long, too_large, malformed = 414, 431, 400
    refused = {
        "an id past any length": (
            get.replace(b"posts", b"posts/" + b"9" * 9000) + b"\r\n",
            too_long,
        ),
        "a huge header": (get + b"Authorization: Bearer " + b"a" * 9000 + b"\r\n\r\n", too_large),
        "120 headers": (
            get + b"".join(b"X-%d: %d\r\n" % (n, n) for n in range(120)) + b"\r\n",
            too_large,
        ),
        "a folded header": (get + b"X-Folded: a\r\n b\r\n\r\n", malformed),
        "two lengths": (post + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", malformed),
        "a length and chunks": (
            post + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            malformed,
        ),
        "a raw byte in the path": (get.replace(b"posts", b"posts/\xff") + b"\r\n", malformed),
    }
    codes = {
        too_long: "URI_TOO_LONG",
        too_large: "REQUEST_HEADER_FIELDS_TOO_LARGE",
        malformed: "BAD_REQUEST",
    }
    for name, (data, status) in refused.items():
        reply = service.raw_reply(data)
        assert reply.status == status, (name, reply.body[:300])
        service.assert_error(reply, status, codes[status])
        assert reply.headers["Connection"] == "close", name
        assert reply.headers["X-Content-Type-Options"] == "nosniff", name


@on_sqlite
def test_rotating_addresses_through_a_proxy_cannot_guess_one_account(project: Project) -> None:
    """Each attempt claims another client address (X-Forwarded-For, one trusted proxy)."""
    settings = {"TRUSTED_PROXIES": "1", "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute"}
    wrong = {"email": ADMIN_EMAIL, "password": "wrong-password"}
    with project.serve(workers=2, **settings) as service:
        statuses = [
            service.request(
                "POST",
                "/api/v1/auth/login",
                json_body=wrong,
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status
            for n in range(1, 9)
        ]
        other = service.login("nobody@example.com", "wrong-password")
        events = [event["event"] for event in security_events(service)]

    assert statuses == [401] * 5 + [429] * 3
    assert other.status == 401
    assert events.count("login_limited") == 3


@on_sqlite
def test_a_login_store_that_hangs_is_answered_503_within_seconds(project: Project) -> None:
    """A Redis that accepts connections and never answers (a stuck server, a black hole)."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        store = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        with project.serve(workers=2, RATELIMIT_STORAGE_URI=store) as service:
            started = time.monotonic()
            reply = service.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            waited = time.monotonic() - started

    service.assert_error(reply, 503, "SERVICE_UNAVAILABLE")
    assert int(reply.headers["Retry-After"]) > 0
    # STORE_TIMEOUT_SECONDS (5) bounds it, far below a client's patience.
    assert waited < 10, waited


@on_sqlite
def test_a_forged_host_gets_no_redirect(service: Service) -> None:
    forged = service.request("GET", "/api/v1//posts", headers={"Host": "evil.example"})
    service.assert_error(forged, 400, "BAD_REQUEST")
    assert "Location" not in forged.headers
    assert b"evil.example" not in forged.body

    doubled = service.request("GET", "/api/v1//posts")
    assert (doubled.status, doubled.headers.get("Location")) == (200, None)


def chunked(path: str, body: bytes, headers: dict[str, str], chunk: int = 65536) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += ["Content-Type: application/json", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        data += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return data + b"0\r\n\r\n"


@on_sqlite
def test_a_chunked_body_over_the_limit_is_too_large(service: Service) -> None:
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    small = b'{"title": "chunked", "body": "fits"}'
    large = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'", "body": "b"}'

    fits = service.raw_exchange(chunked("/api/v1/posts", small, admin))
    too_large = service.raw_exchange(chunked("/api/v1/posts", large, admin))

    assert fits.startswith(b"HTTP/1.1 201"), fits[:300]
    assert too_large.startswith(b"HTTP/1.1 413"), too_large[:300]
    assert b'"PAYLOAD_TOO_LARGE"' in too_large


@on_sqlite
def test_made_up_methods_cannot_inflate_the_metrics(service: Service) -> None:
    before = service.request("GET", "/metrics")
    for n in range(100):
        service.request(f"X{n:03d}METHOD", "/healthz")
        service.request("GET", f"/no/such/route/{n}")
    after = service.request("GET", "/metrics")

    assert len(after.body) - len(before.body) < 10_000
    content_type = after.headers["Content-Type"]
    assert content_type.startswith("text/plain; version=")
    assert content_type.count("charset") == 1


@on_sqlite
def test_password_changes_do_not_stall_other_writers(service: Service) -> None:
    """Hashing happens before the write transaction: SQLite's lock is held for milliseconds."""
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    member_id = create_user(service, admin, "changer@example.com", "member")

    def change_password(n: int) -> int:
        body = {"password": f"password-number-{n}"}
        return service.request(
            "PATCH", f"/api/v1/users/{member_id}", headers=admin, json_body=body
        ).status

    def write_post(n: int) -> int:
        body = {"title": f"Post {n}", "body": "text"}
        return service.request("POST", "/api/v1/posts", headers=admin, json_body=body).status

    with ThreadPoolExecutor(max_workers=6) as pool:
        changes = pool.map(change_password, range(20))
        posts = pool.map(write_post, range(40))
        statuses = list(changes) + list(posts)

    assert statuses == [200] * 20 + [201] * 40


# -- configurations that must not serve -----------------------------------------------------


def gunicorn_refuses(project: Project, **env: str) -> str:
    """Start gunicorn with ``env``: it must exit by itself; its log."""
    settings = project.env | {"GUNICORN_BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "2"} | env
    done = subprocess.run(
        [str(project.venv / "gunicorn"), "my_service:create_app()"],
        cwd=project.root,
        env=settings,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode != 0
    return done.stdout + done.stderr


@on_sqlite
@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 32 bytes"),
        ({"TRUSTED_HOSTS": ""}, "TRUSTED_HOSTS is empty"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI=memory://"),
        # gunicorn.conf.py's numbers. With no worker, gunicorn would listen and never answer.
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY must be at least 1, got '0'"),
        ({"GUNICORN_TIMEOUT": "-1"}, "GUNICORN_TIMEOUT must be at least 0, got '-1'"),
        ({"GUNICORN_MAX_REQUESTS": "lots"}, "GUNICORN_MAX_REQUESTS must be an integer"),
        # Development settings (any Host, /metrics open, a secret made up per worker).
        ({"APP_ENV": "development"}, "APP_ENV='development': gunicorn serves only"),
        # The secret earlier releases printed in compose.yaml.
        (
            {"SECRET_KEY": "local-compose-secret-key-change-me-0123456789"},
            "SECRET_KEY is missing or a default value",
        ),
        ({"USER_WEBHOOK_URL": "http://127.0.0.1:9/hook"}, "WEBHOOK_SECRET is empty"),
    ],
    ids=[
        "short-secret",
        "no-hosts",
        "per-process-limits",
        "no-workers",
        "negative-timeout",
        "words-for-a-number",
        "development",
        "printed-secret",
        "unsigned-webhooks",
    ],
)
def test_an_unsafe_production_config_does_not_serve(
    project: Project, env: dict[str, str], named: str
) -> None:
    assert named in gunicorn_refuses(project, **env)


@on_sqlite
def test_no_control_socket_unless_the_operator_names_one(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """gunicorn's default control socket is one per user: another instance would take it."""
    runtime = tmp_path_factory.mktemp("runtime")
    named = runtime / "my-service.ctl"

    with project.serve(workers=1, XDG_RUNTIME_DIR=str(runtime)) as service:
        assert service.request("GET", "/healthz").status == 200
        assert list(runtime.iterdir()) == []
    with project.serve(workers=1, XDG_RUNTIME_DIR=str(runtime), GUNICORN_CONTROL_SOCKET=str(named)):
        assert [path.name for path in runtime.iterdir()] == [named.name]
        assert named.is_socket()


@on_sqlite
def test_a_client_cannot_forge_lines_in_text_logs(project: Project) -> None:
    """Paths arrive percent-decoded: a CR, LF or ESC in one must not reach the log raw."""
    forged = "2026-01-01 00:00:00,000 INFO forged: GET /admin 200"
    with project.serve(workers=1, LOG_FORMAT="text") as text_logged:
        for sent in ("%0d%0a", "%0a", "%1b[2K%0d", "%e2%80%a8"):
            reply = text_logged.request("GET", f"/api/v1/posts/1{sent}{quote(forged)}")
            text_logged.assert_error(reply, 404, "NOT_FOUND")
        log = text_logged.log.read_text(encoding="utf-8")

    assert log.count("forged: GET /admin 200") == 4, log[-2000:]
    assert not [line for line in log.splitlines() if line.startswith(forged)]
    assert "\x1b" not in log
    assert "\u2028" not in log


@on_sqlite
def test_check_deploy_lists_every_problem_without_a_traceback(project: Project) -> None:
    env = {k: v for k, v in project.env.items() if k != "SECRET_KEY"}
    env |= {"CORS_ORIGINS": "*", "TOKEN_TTL_SECONDS": str(10 * 365 * 86400)}

    done = project.flask("check-deploy", env=env)

    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    for setting in ("SECRET_KEY", "CORS_ORIGINS", "TOKEN_TTL_SECONDS"):
        assert f"- {setting}" in output


@on_sqlite
def test_a_client_generated_from_the_document_calls_the_service(
    service: Service, tmp_path: Path
) -> None:
    """openapi-python-client names its functions after the operationIds: list_users, not
    get_api_v1_users; and the client it makes works against the served service.
    """
    document = tmp_path / "openapi.json"
    document.write_bytes(service.request("GET", "/openapi.json").body)
    package = tmp_path / "my_service_client"
    done = run(
        [
            tool("openapi-python-client"),
            *("generate", "--path", str(document), "--meta", "none"),
            *("--output-path", str(package)),
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    functions = {path.stem for path in (package / "api").rglob("*.py")} - {"__init__"}
    assert {
        "list_users",
        "get_post",
        "create_post",
        "login",
        "logout",
        "revoke_tokens",
    } <= functions

    def module(name: str) -> Any:
        return importlib.import_module(f"my_service_client.{name}")

    sys.path.insert(0, str(tmp_path))
    try:
        client, models = module("client"), module("models")
        base_url = f"http://127.0.0.1:{service.port}"
        credentials = models.LoginRequest(email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
        post = models.PostCreate(title="From a generated client", body="It reads the document.")
        with client.Client(base_url=base_url) as anonymous:
            token = module("api.auth.login").sync(client=anonymous, body=credentials)
            assert token.data.token_type == "Bearer"
            bearer = token.data.access_token
            with client.AuthenticatedClient(base_url=base_url, token=bearer) as admin:
                created = module("api.posts.create_post").sync(client=admin, body=post)
                post_id = created.data.id
                fetched = module("api.posts.get_post").sync(client=anonymous, post_id=post_id)
                users = module("api.users.list_users").sync(client=admin, per_page=5)
                logout = module("api.auth.logout").sync_detailed(client=admin)
                after = module("api.users.list_users").sync_detailed(client=admin)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("my_service_client")]:
            del sys.modules[name]

    assert fetched.data.title == "From a generated client"
    assert users.meta.per_page == 5
    assert (logout.status_code, after.status_code) == (204, 401)


# Values a hostile client sends to a scaffolded resource (tests/scaffolds.py: invoices):
# each is refused with 422 naming its field, never stored cut or rounded, never a 500.
HOSTILE_VALUES = [
    ("amount", "1" * 10_000),
    ("amount", "0." + "1" * 10_000),
    ("amount", "1e400"),
    ("amount", "NaN"),
    ("amount", "1.005"),
    ("amount", 12345678901.5),
    ("quantity", 2**63),
    ("quantity", -(2**31) - 1),
    ("quantity", True),
    ("due_on", "2026-13-01"),
    ("due_on", "2026-02-29"),
    ("due_on", "0001-01-01"),
    ("sent_at", "9999-12-31T23:59:59-23:59"),
    ("sent_at", "2026-01-01T00:00:00"),
    ("status", "paid; DROP TABLE invoices"),
    ("number", "x" * 41),
    ("number", "a\u0000b"),
    ("customer_id", 2**31),
    ("paid", "false"),
]


def test_a_scaffolded_resource_refuses_hostile_values_naming_the_field(
    service: Service,
) -> None:
    admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
    me = service.request("GET", "/api/v1/users?per_page=1", headers=admin).json["data"][0]
    valid = {
        "number": "INV-1",
        "amount": "12.50",
        "due_on": "2026-12-31",
        "paid": False,
        "status": "sent",
        "customer_id": me["id"],
        "quantity": 3,
    }
    refused = {}
    for field, value in HOSTILE_VALUES:
        reply = service.request(
            "POST", "/api/v1/invoices", json_body=valid | {field: value}, headers=admin
        )
        refused[(field, str(value)[:20])] = field in service.assert_error(
            reply, 422, "VALIDATION_ERROR"
        )

    assert all(refused.values()), refused
    created = service.request("POST", "/api/v1/invoices", json_body=valid, headers=admin)
    assert created.status == 201, created.body
    assert created.json["data"]["amount"] == "12.50"


# Last: its stateful phase may change the admin's password, ending the module's tokens.
@on_sqlite
def test_an_api_tester_with_every_check_finds_nothing(project: Project, service: Service) -> None:
    project.api_tester_finds_nothing(service)
