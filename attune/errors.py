"""The one error tree of Attune.

Every layer raises these; the API maps them to HTTP codes in one place
(`attune.api.errors`), the CLI prints their message. Domain code raises them
without knowing about HTTP.
"""

from __future__ import annotations

from typing import Any


class AttuneError(Exception):
    """Root of every error Attune raises on purpose."""

    code = "INTERNAL_SERVER_ERROR"
    status = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequestError(AttuneError):
    code = "BAD_REQUEST"
    status = 400


class ValidationError(AttuneError):
    """Input is well-formed but wrong; `details` lists each bad field."""

    code = "VALIDATION_ERROR"
    status = 422


class UnauthorizedError(AttuneError):
    code = "UNAUTHORIZED"
    status = 401


class ForbiddenError(AttuneError):
    code = "FORBIDDEN"
    status = 403


class NotFoundError(AttuneError):
    code = "NOT_FOUND"
    status = 404


class ConflictError(AttuneError):
    """The request contradicts current state (e.g. an invalid state transition)."""

    code = "CONFLICT"
    status = 409


class PayloadTooLargeError(AttuneError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class TooManyRequestsError(AttuneError):
    code = "TOO_MANY_REQUESTS"
    status = 429


class ConcurrencyError(ConflictError):
    """An append stated a version the aggregate no longer has: reload, decide again."""


class DuplicateAppendError(ConflictError):
    """An atomic batch holds an append recorded before (a redelivery): append its
    events one by one, where JetStream deduplicates them."""


class InvalidTransitionError(ConflictError):
    """A command does not apply to the aggregate's current state."""


class PackError(ValidationError):
    """A pack's files are invalid; the message names the file and field."""


class UnavailableError(AttuneError):
    code = "SERVICE_UNAVAILABLE"
    status = 503
