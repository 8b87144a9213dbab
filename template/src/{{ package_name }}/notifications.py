"""Outgoing notifications: a webhook called when a user is created.

The service depends on the ``Notifier`` protocol, so tests pass a fake and
production passes ``WebhookNotifier`` (or ``NullNotifier`` when no URL is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import requests


class NotificationError(Exception):
    """The notification could not be delivered."""


class Notifier(Protocol):
    def user_created(self, user: Mapping[str, Any]) -> None: ...


class NullNotifier:
    def user_created(self, user: Mapping[str, Any]) -> None:
        return None


class WebhookNotifier:
    def __init__(self, url: str, timeout: float = 5.0, session: requests.Session | None = None):
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()

    def user_created(self, user: Mapping[str, Any]) -> None:
        self._send({"event": "user.created", "user": dict(user)})

    def _send(self, payload: Mapping[str, Any]) -> None:
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
            response.raise_for_status()
        except requests.RequestException as error:
            raise NotificationError(f"webhook {self.url} failed: {error}") from error


def notifier_from_config(config: Mapping[str, Any]) -> Notifier:
    url = config.get("USER_WEBHOOK_URL")
    if not url:
        return NullNotifier()
    return WebhookNotifier(url, timeout=config.get("WEBHOOK_TIMEOUT_SECONDS", 5))
