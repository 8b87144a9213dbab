"""Outgoing notifications: a webhook called when a user is created.

The service depends on the ``Notifier`` protocol, so tests pass a fake and
production passes the one ``delivery.notifier_for`` builds (or ``NullNotifier``
when no URL is set).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


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


class Webhook:
    """POSTs events as JSON to one URL; any failure is a NotificationError.

    Each delivery carries an ``Idempotency-Key`` header: a receiver that sees the same
    key twice (a retry after a lost answer) can ignore the second. Errors name only the
    receiver's host: a webhook URL's credentials, path or query are often its secret,
    and errors end up in logs and in the outbox.
    """

    def __init__(self, url: str, timeout: float = 5.0, session: requests.Session | None = None):
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()

    def post(self, payload: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        headers = {IDEMPOTENCY_KEY_HEADER: idempotency_key or uuid.uuid4().hex}
        try:
            # A redirect is not followed: it would send the event (or, as a GET, drop it)
            # wherever the answer points, inside the worker's network too.
            response = self.session.post(
                self.url, json=payload, headers=headers, timeout=self.timeout, allow_redirects=False
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

    Raises ValueError for a URL that cannot be called; the message does not repeat it.
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
    return Webhook(url, timeout=config.get("WEBHOOK_TIMEOUT_SECONDS", 5))
