"""Request ids, Prometheus metrics and logging."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from ipaddress import ip_address, ip_network
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
REQUEST_ID_HEADER = "X-Request-ID"
# Label values stay bounded: any other method is counted as "other", and a request
# that matched no route as endpoint "unmatched", so clients cannot mint new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_logger = logging.getLogger(__name__ + ".access")
# Security events (README, "Security events"): one record each, with a stable name.
security_logger = logging.getLogger(__name__ + ".security")
DENIED = frozenset({401, 403})
# The request id of the request that caused the work at hand, outside any request (a task).
_carried_request_id: ContextVar[str | None] = ContextVar("carried_request_id", default=None)


class Metrics:
    """HTTP metrics in a registry of the app's own (so several apps never clash)."""

    def __init__(self, networks: list[str]) -> None:
        try:
            self.networks = [ip_network(network) for network in networks]
        except ValueError as error:
            raise ValueError(f"METRICS_NETWORKS: {error}") from None
        self.registry = CollectorRegistry()
        labels = ["method", "endpoint", "status"]
        self.requests = Counter(
            "http_requests", "HTTP requests served", labels, registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time spent serving HTTP requests",
            labels,
            registry=self.registry,
        )
        self.collectors: list[Collector] = []

    def include(self, collector: Collector) -> None:
        """Serve ``collector``'s metrics too (values kept outside this process)."""
        self.registry.register(collector)
        self.collectors.append(collector)

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "other"
        self.requests.labels(method, endpoint, str(status)).inc()
        self.latency.labels(method, endpoint, str(status)).observe(seconds)

    def readable_by(self, address: str | None) -> bool:
        """Whether a client at ``address`` may read the metrics (METRICS_NETWORKS)."""
        try:
            client = ip_address(address or "")
        except ValueError:
            return False
        return any(client in network for network in self.networks)

    def response(self) -> Response:
        """This process's metrics, or every worker's when gunicorn runs several.

        gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR, where each worker writes its
        values; the collector adds them up.
        """
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            for collector in self.collectors:
                registry.register(collector)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def current_request_id() -> str | None:
    if has_request_context():
        request_id: str | None = g.get("request_id")
        return request_id
    return _carried_request_id.get()


@contextmanager
def carried_request_id(request_id: str | None) -> Iterator[None]:
    """Log lines written inside carry ``request_id`` (work a request caused, done later)."""
    token = _carried_request_id.set(request_id)
    try:
        yield
    finally:
        _carried_request_id.reset(token)


def security_event(event: str, **details: Any) -> None:
    """Log one security event with the request id, the client address (after trusted
    proxies) and the signed-in user, where known. ``details`` name what the event is
    about (an account tried, a user changed), never a password or a token.
    """
    fields: dict[str, Any] = {"event": event, "request_id": current_request_id()}
    if has_request_context():
        g.security_event = event
        fields |= {"client": request.remote_addr, "user_id": g.get("user_id")}
    fields |= details
    words = " ".join(f"{name}={value}" for name, value in fields.items() if value is not None)
    security_logger.info("%s", words, extra=fields)


def _start_request() -> None:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if SAFE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    # Set by authentication and by security_event (``g`` outlives a request in tests).
    g.user_id = g.security_event = None


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
    started = g.get("request_started")
    if started is not None:
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"
        metrics: Metrics = current_app.extensions["metrics"]
        metrics.observe(request.method, endpoint, response.status_code, seconds)
        if response.status_code in DENIED and g.get("security_event") is None:
            security_event("access_denied", status=response.status_code, path=request.path)
        access_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "client": request.remote_addr,
                "user_id": g.get("user_id"),
            },
        )
    return response


def init_observability(app: Flask) -> None:
    app.extensions["metrics"] = Metrics(app.config["METRICS_NETWORKS"])
    app.before_request(_start_request)
    app.after_request(_finish_request)


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    FIELDS = (
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "client",
        "user_id",
        "event",
        "account",
        "target_user_id",
        "reason",
    )

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# Characters that end a line or steer a terminal (CR, LF, ESC...), written as escapes.
LINE_BREAKING = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {
    code: f"\\u{code:04x}" for code in (0x85, 0x2028, 0x2029)
}


class TextFormatter(logging.Formatter):
    """Readable lines, one per record whatever a client sent.

    A path such as ``/x%0d%0a...`` arrives decoded: written as is, it would end the line
    and forge the next one. The message is escaped; a traceback keeps its lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return super().formatMessage(record).translate(LINE_BREAKING)


def configure_logging(app: Flask) -> None:
    """Logs to stderr: JSON (LOG_FORMAT=json) for log platforms, else readable text.

    Logging that the host already set up (a test runner, a process manager's
    logging config) is left alone.
    """
    root = logging.getLogger()
    if app.testing or root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
