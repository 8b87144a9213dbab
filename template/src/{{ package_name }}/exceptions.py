"""Errors raised by the service layer; the web layer maps each to a status code."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a message for the client, and field details where they help."""

    def __init__(self, message: str, details: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFoundError(DomainError):
    """The row does not exist."""


class ConflictError(DomainError):
    """A unique value is taken."""


class PermissionDeniedError(DomainError):
    """The caller is known but may not do this."""


class AuthenticationError(DomainError):
    """No credentials, or bad ones."""


class InvalidDataError(DomainError):
    """The request is well-formed but breaks a business rule."""
