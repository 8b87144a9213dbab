"""``tasks=celery``, served for real: gunicorn, a Celery worker and beat on a real Redis.

A project on SQLite and one on PostgreSQL are served by two gunicorn workers in
production settings. A user created over HTTP has its webhook delivered by a
separate worker process to a receiver on loopback that fails twice first; a
delivery whose request could not reach the broker is queued by beat's relay; and
a Redis of the test's own is shut down mid-traffic and started again empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .matrix import default_combination
from .renders import Renders
from .served import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PACKAGE,
    Project,
    Service,
    free_port,
    prepared_project,
    redis_url,
    stop,
)
from .tools import IN_CI, require_server, run

UNREACHABLE_BROKER = "redis://127.0.0.1:9/0"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"served-webhook-secret-0123456789").decode()
# One worker installs and migrates each project once for both scenarios.
pytestmark = pytest.mark.xdist_group("background-tasks")


def signed_by_us(headers: Any, body: bytes) -> bool:
    """Whether a call carries a valid Standard Webhooks signature, checked as receivers do."""
    key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and hmac.compare_digest(expected, headers.get("webhook-signature", ""))


class Receiver(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` posts, then 204; records each one, and
    answers 401 (recorded as such) to a call without a valid signature.
    """

    failures = 0
    received: ClassVar[list[tuple[int, str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw)
        status = 503 if len(self.received) < self.failures else 204
        if not signed_by_us(self.headers, raw):
            status = 401
        assert self.headers["webhook-id"] == self.headers["Idempotency-Key"]
        self.received.append((status, self.headers["webhook-id"], body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def receiver(failures: int) -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Receiving", (Receiver,), {"failures": failures, "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", handler
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def celery(project: Project, command: str, log: Path, **env: str) -> Iterator[None]:
    """``celery worker`` or ``celery beat`` of the project, in a process of its own."""
    arguments = ["--pool=solo"] if command == "worker" else [f"--schedule={log}.schedule"]
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(project.venv / "celery"), f"--app={PACKAGE}.worker", command, *arguments],
            cwd=project.root,
            env=project.env | env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            stop(process)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def task_runs(metrics: str, outcome: str) -> float:
    series = "celery_tasks_total{" + f'outcome="{outcome}",task="deliveries.deliver"' + "}"
    for line in metrics.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return 0.0


@contextmanager
def celery_project(
    database: str,
    renders: Renders,
    database_servers: dict[str, str | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Project]:
    """The celery project on ``database``, installed, migrated, with its admin."""
    broker = redis_url()
    server = require_server(database, database_servers)
    combo = default_combination(database=database, tasks="celery")
    tmp_path = tmp_path_factory.mktemp(f"tasks-{database}")
    # The broker keys and task counters go under the project's Redis prefix.
    settings = {
        "CELERY_BROKER_URL": broker,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEBHOOK_RETRY_FIRST_SECONDS": "1",
        "DELIVERY_RELAY_SECONDS": "1",
        "DELIVERY_STALE_SECONDS": "1",
    }
    with prepared_project(renders.get(combo), combo, tmp_path, server, **settings) as served:
        yield served


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def project(
    request: pytest.FixtureRequest,
    renders: Renders,
    database_servers: dict[str, str | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Project]:
    with celery_project(request.param, renders, database_servers, tmp_path_factory) as served:
        yield served


def test_a_worker_delivers_a_new_users_webhook_after_two_failures(project: Project) -> None:
    logs = project.root / "logs"
    logs.mkdir(exist_ok=True)
    with receiver(failures=2) as (url, handler):
        hooks = {"USER_WEBHOOK_URL": url}
        with (
            project.serve(workers=2, **hooks) as service,
            celery(project, "worker", logs / "worker.log", **hooks),
        ):
            admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
            created = service.request(
                "POST",
                "/api/v1/users",
                json_body={"email": "grace@example.com", "name": "Grace", "password": "x" * 12},
                headers=admin | {"X-Request-ID": "create-grace-1"},
            )
            delivered = wait_for(lambda: any(s == 204 for s, _, _ in handler.received), 60)
            metrics = service.request("GET", "/metrics").body.decode()
            ready = service.request("GET", "/readyz")
        worker_log = (logs / "worker.log").read_text()

    assert created.status == 201, created.body
    assert delivered, worker_log[-3000:]
    assert [status for status, _, _ in handler.received] == [503, 503, 204]
    keys = {key for _, key, _ in handler.received}
    assert len(keys) == 1
    (key,) = keys
    assert handler.received[-1][2]["user"]["email"] == "grace@example.com"
    assert (task_runs(metrics, "retried"), task_runs(metrics, "succeeded")) == (2, 1)
    assert ready.status == 200, ready.body
    assert "\ncelery_broker_up 1.0\n" in metrics
    # The worker's JSON log lines carry the id of the request that created the user.
    entries = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    delivery_lines = [entry for entry in entries if key in entry["message"]]
    assert delivery_lines, worker_log[-3000:]
    assert {entry.get("request_id") for entry in delivery_lines} == {"create-grace-1"}


def test_a_delivery_the_request_could_not_queue_is_relayed_by_beat(project: Project) -> None:
    logs = project.root / "logs"
    logs.mkdir(exist_ok=True)
    with receiver(failures=0) as (url, handler):
        hooks = {"USER_WEBHOOK_URL": url}
        # The web service cannot reach the broker; the worker and beat can.
        with project.serve(workers=2, CELERY_BROKER_URL=UNREACHABLE_BROKER, **hooks) as service:
            admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)
            started = time.monotonic()
            created = service.request(
                "POST",
                "/api/v1/users",
                json_body={"email": "linus@example.com", "name": "Linus", "password": "x" * 12},
                headers=admin,
            )
            seconds = time.monotonic() - started
            ready = service.request("GET", "/readyz")
            metrics = service.request("GET", "/metrics").body.decode()
        nothing_yet = list(handler.received)
        with (
            celery(project, "worker", logs / "relay-worker.log", **hooks),
            celery(project, "beat", logs / "beat.log", **hooks),
        ):
            delivered = wait_for(lambda: bool(handler.received), 60)
        beat_log = (logs / "beat.log").read_text()

    assert created.status == 201, created.body
    # The broker's connect timeout (2 s by default) bounds what its absence costs a request.
    assert seconds < 10
    # Still serving: the broker's outage shows in the metrics, not in readiness.
    assert ready.status == 200, ready.body
    assert "\ncelery_broker_up 0.0\n" in metrics
    assert nothing_yet == []
    assert delivered, beat_log[-3000:]
    assert [body["user"]["email"] for _, _, body in handler.received] == ["linus@example.com"]


# On another worker than the module's other tests: each tester run takes a while.
@pytest.mark.xdist_group("background-tasks-tester")
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_api_tester_finds_nothing_while_a_worker_delivers(
    database: str,
    renders: Renders,
    database_servers: dict[str, str | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Every check of the API tester, with deliveries queued and run for each user it makes.

    Requests write while webhook calls are in flight: on SQLite a worker that held a
    transaction open across the call could not write its outcome afterwards ("database is
    locked"). A project of its own: the tester's stateful phase may change the admin's
    password.
    """
    with (
        celery_project(database, renders, database_servers, tmp_path_factory) as project,
        receiver(failures=0) as (url, handler),
    ):
        logs = project.root / "logs"
        logs.mkdir(exist_ok=True)
        hooks = {"USER_WEBHOOK_URL": url}
        with (
            project.serve(workers=2, **hooks) as service,
            celery(project, "worker", logs / "tester-worker.log", **hooks),
        ):
            project.api_tester_finds_nothing(service)
            delivered = wait_for(lambda: bool(handler.received), 30)
        worker_log = (logs / "tester-worker.log").read_text()

    # The tester made users: their deliveries went through the worker, none failed.
    assert delivered, worker_log[-3000:]
    assert {status for status, _, _ in handler.received} == {204}
    # The worker logs JSON (errors at level ERROR), Celery's own start-up lines as text.
    entries = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    assert [entry for entry in entries if entry["level"] in {"ERROR", "CRITICAL"}] == []
    assert "Traceback" not in worker_log, worker_log[-3000:]


class FirstAttemptFails(BaseHTTPRequestHandler):
    """Answers 503 to the first post of each delivery while ``failing`` is set, else 204;
    records every post as (status, delivery id, email).
    """

    failing = True
    received: ClassVar[list[tuple[int, str, str]]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["webhook-id"]
        with self.lock:
            seen = any(k == key for _, k, _ in self.received)
            status = 503 if self.failing and not seen else 204
            if not signed_by_us(self.headers, raw):
                status = 401
            self.received.append((status, key, json.loads(raw)["user"]["email"]))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class Supervised:
    """A process started again whenever it exits, as compose's ``restart: unless-stopped``."""

    def __init__(self, args: list[str], project: Project, log: Path, **env: str) -> None:
        self.args = args
        self.project = project
        self.log = log
        self.env = project.env | env
        self.exits: list[int] = []
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("a") as output:
            return subprocess.Popen(
                self.args, cwd=self.project.root, env=self.env, stdout=output, stderr=output
            )

    def restart_if_exited(self) -> None:
        code = self.process.poll()
        if code is not None:
            self.exits.append(code)
            self.process = self._start()

    def stop(self) -> None:
        stop(self.process)


@contextmanager
def own_redis(folder: Path) -> Iterator[tuple[int, Callable[[], None], Callable[[], None]]]:
    """A Redis of this test's own on a free port, kept in memory only (a restart empties
    it); yields its port and functions that stop and start it. The shared one is never
    touched.
    """
    server = shutil.which("redis-server")
    if server is None:
        message = "redis-server is not installed: the broker outage cannot be staged"
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    port = free_port()
    arguments = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    arguments += ["--appendonly", "no", "--dir", str(folder)]
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        with (folder / "redis.log").open("a") as log:
            running.append(subprocess.Popen(arguments, stdout=log, stderr=log))
        assert wait_for(lambda: run(["redis-cli", "-p", str(port), "ping"]).stdout == "PONG\n", 10)

    def shut_down() -> None:
        process = running.pop()
        process.terminate()
        process.wait(timeout=10)

    start()
    try:
        yield port, shut_down, start
    finally:
        for process in running:
            process.kill()
            process.wait()


def outbox_pending(service: Service) -> float | None:
    """``outbox_deliveries{state="pending"}`` in /metrics, or None if absent."""
    for line in service.request("GET", "/metrics").body.decode().splitlines():
        if line.startswith('outbox_deliveries{state="pending"} '):
            return float(line.rpartition(" ")[2])
    return None


def test_every_delivery_goes_out_once_after_redis_restarts_empty(project: Project) -> None:
    """The operator's bad night: Redis shut down without saving while the worker holds
    retries, users created meanwhile, Redis back empty after 5 s, more users.

    The worker runs as compose runs it (prefork pool), beat too (twice over), each
    restarted if it exits; the relay runs on its shipped schedule (10 s, stale after
    30 s). A retry waits 5 s, so the worker holds the first batch's retries when Redis
    goes. Bound: 60 s from Redis's return to the last delivery (the issue's; typical is
    10 to 20 s).
    """
    folder = project.root / "outage"
    folder.mkdir(exist_ok=True)

    class Receiving(FirstAttemptFails):
        received: ClassVar[list[tuple[int, str, str]]] = []

    handler = Receiving
    receiving = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiving.serve_forever, daemon=True).start()
    statuses: list[int] = []
    emails: list[str] = []
    pending_seen: list[float | None] = []
    with own_redis(folder) as (port, shut_down, start):
        settings = {
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "USER_WEBHOOK_URL": f"http://127.0.0.1:{receiving.server_address[1]}/hooks",
            "WEBHOOK_RETRY_FIRST_SECONDS": "5",
            "DELIVERY_RELAY_SECONDS": "10",
            "DELIVERY_STALE_SECONDS": "30",
        }
        celery_command = [str(project.venv / "celery"), f"--app={PACKAGE}.worker"]
        with project.serve(workers=2, **settings) as service:
            worker = Supervised(
                [*celery_command, "worker", "--loglevel=INFO"],
                project,
                folder / "worker.log",
                CELERY_HEARTBEAT_FILE=str(folder / "worker.heartbeat"),
                **settings,
            )
            beat = Supervised(
                [*celery_command, "beat", f"--schedule={folder / 'beat.schedule'}"],
                project,
                folder / "beat.log",
                CELERY_HEARTBEAT_FILE=str(folder / "beat.heartbeat"),
                **settings,
            )
            # A second beat for the whole run (a deploy's overlap, a mistake): relays run
            # twice, and nothing may be delivered twice for it.
            beat_twin = Supervised(
                [*celery_command, "beat", f"--schedule={folder / 'twin.schedule'}"],
                project,
                folder / "twin.log",
                **settings,
            )
            supervised = (worker, beat, beat_twin)
            try:
                admin = service.bearer(ADMIN_EMAIL, ADMIN_PASSWORD)

                def create(batch: int) -> None:
                    for number in range(10):
                        email = f"outage-{batch}-{number}@example.com"
                        body = {"email": email, "name": "Outage", "password": "x" * 12}
                        reply = service.request(
                            "POST", "/api/v1/users", json_body=body, headers=admin, timeout=30
                        )
                        statuses.append(reply.status)
                        emails.append(email)

                create(1)
                failed_once = wait_for(lambda: len(handler.received) >= 10, 60)
                shut_down()
                down_at = time.monotonic()
                handler.failing = False
                create(2)
                pending_seen.append(outbox_pending(service))
                time.sleep(max(0.0, 5 - (time.monotonic() - down_at)))
                start()
                up_at = time.monotonic()
                create(3)

                def all_delivered() -> bool:
                    for process in supervised:
                        process.restart_if_exited()
                    taken = {email for status, _, email in handler.received if status == 204}
                    return taken == set(emails)

                delivered = wait_for(all_delivered, 60)
                last_delivery = time.monotonic() - up_at
                drained = wait_for(lambda: outbox_pending(service) == 0, 40)
                alive = {
                    name: run(
                        [str(project.venv / "python"), "-m", f"{PACKAGE}.heartbeat", "60"],
                        cwd=project.root,
                        env=project.env | {"CELERY_HEARTBEAT_FILE": str(folder / name)},
                    ).returncode
                    for name in ("worker.heartbeat", "beat.heartbeat")
                }
            finally:
                for process in supervised:
                    process.stop()
                receiving.shutdown()
                receiving.server_close()
    worker_log = (folder / "worker.log").read_text()

    assert failed_once, handler.received
    assert statuses == [201] * 30
    assert delivered, (worker_log[-3000:], handler.received)
    assert last_delivery < 60
    # Each delivery went out with 204 exactly once; the only other answers were the
    # first batch's deliberate failures.
    taken = [key for status, key, _ in handler.received if status == 204]
    assert len(taken) == len(set(taken)) == 30
    assert sorted(status for status, _, _ in handler.received if status != 204) == [503] * 10
    # The backlog showed while Redis was away, and fell back to 0.
    assert pending_seen[0] is not None
    assert pending_seen[0] >= 10
    assert drained
    # The worker saw the broker go and stayed up; both heartbeats are fresh.
    assert "Connection to broker lost" in worker_log
    assert worker.exits == [], worker_log[-3000:]
    assert beat.exits == beat_twin.exits == []
    assert alive == {"worker.heartbeat": 0, "beat.heartbeat": 0}
