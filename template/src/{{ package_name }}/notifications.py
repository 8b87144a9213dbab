"""Outgoing notifications: a webhook called when a user is created.

The service depends on the ``Notifier`` protocol, so tests pass a fake and
production passes the one ``delivery.notifier_for`` builds (or ``NullNotifier``
when no URL is set).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# Standard Webhooks (standardwebhooks.com): the secret's prefix, and its key's length.
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = (24, 64)


class NotificationError(Exception):
    """The notification could not be delivered."""


class Notifier(Protocol):
    def user_created(self, user: Mapping[str, Any]) -> None:
        """Called in the transaction that creates the user: deliver only once it commits."""


class NullNotifier:
    def user_created(self, user: Mapping[str, Any]) -> None:
        return None


def user_created_event(user: Mapping[str, Any]) -> dict[str, Any]:
    return {"event": "user.created", "user": dict(user)}


def new_webhook_secret() -> str:
    """A fresh WEBHOOK_SECRET: the prefix and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_key(secret: str) -> bytes:
    """The signing key a WEBHOOK_SECRET holds; ValueError (naming the variable) if none."""
    problem = ValueError(
        f"WEBHOOK_SECRET must be {SECRET_PREFIX!r} and base64 of {SECRET_BYTES[0]} to "
        f"{SECRET_BYTES[1]} random bytes (make one with `flask webhook-secret`)"
    )
    if not secret.startswith(SECRET_PREFIX):
        raise problem
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise problem from None
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise problem
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` and base64 HMAC-SHA256 of ``id.timestamp.body``: the webhook-signature."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Webhook:
    """POSTs events as JSON to one URL; any failure is a NotificationError.

    Each call is signed the Standard Webhooks way: ``webhook-id`` (the same on every
    retry, and sent as ``Idempotency-Key`` too: a receiver that sees it twice can ignore
    the second), ``webhook-timestamp`` and ``webhook-signature``, an HMAC of the three
    with WEBHOOK_SECRET's key, so a receiver can refuse forged and replayed events.
    Errors name only the receiver's host: a webhook URL's credentials, path or query
    are often its secret, and errors end up in logs and in the outbox.
    """

    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        session: requests.Session | None = None,
        key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()
        self.key = key
        self.clock = clock

    def headers(self, message_id: str, body: bytes) -> dict[str, str]:
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            IDEMPOTENCY_KEY_HEADER: message_id,
        }
        if self.key is not None:
            headers["webhook-signature"] = signature(self.key, message_id, timestamp, body)
        return headers

    def post(self, payload: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        # Signed as sent: the receiver checks the very bytes it reads.
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = self.headers(idempotency_key or uuid.uuid4().hex, body)
        try:
            # A redirect is not followed: it would send the event (or, as a GET, drop it)
            # wherever the answer points, inside the worker's network too.
            response = self.session.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            # Not chained: requests' own message (and so a traceback) holds the whole URL.
            raise NotificationError(f"webhook {origin(self.url)} {failure(error)}") from None
        if not 200 <= response.status_code < 300:
            raise NotificationError(
                f"webhook {origin(self.url)} answered HTTP {response.status_code}"
            )


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, without credentials, path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def failure(error: requests.RequestException) -> str:
    """What went wrong with a call, in words that hold no part of its URL."""
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "could not be reached"
    return f"failed ({type(error).__name__})"


def webhook_from_config(config: Mapping[str, Any]) -> Webhook | None:
    """The configured webhook, or None when USER_WEBHOOK_URL is empty.

    Raises ValueError for a URL that cannot be called (the message does not repeat it),
    or a WEBHOOK_SECRET that is not one. Without a secret the calls go unsigned, which
    production refuses (config.startup_problems).
    """
    url = config.get("USER_WEBHOOK_URL")
    if not url:
        return None
    try:
        parts = urlsplit(url)
        callable_url = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        callable_url = False
    if not callable_url:
        raise ValueError("USER_WEBHOOK_URL must be an http:// or https:// URL with a host name")
    secret = config.get("WEBHOOK_SECRET", "")
    key = webhook_key(secret) if secret else None
    return Webhook(url, timeout=config.get("WEBHOOK_TIMEOUT_SECONDS", 5), key=key)
