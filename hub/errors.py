"""The services' exception family; the API maps each to one HTTP status in one place.

An error says what went wrong twice: in English for the log and API clients (the message),
and as a stable `key` of the message catalogue (hub.i18n) with its `params`, which the pages
render in the reader's language, with names for the site's ids (`*_id`) and local times
(`*_at`)."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of the errors a service raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str = "", *, key: str = "", **params: Any) -> None:
        super().__init__(message)
        self.key = key  # "booking.taken": an entry of the catalogue's "error." messages
        self.params = params


class NotFound(HubError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    status = 404
    title = "Not found"


class Conflict(HubError):
    """The request contradicts the current state (duplicate, overlap, wrong state)."""

    status = 409
    title = "Conflict"


class Forbidden(HubError):
    """The asker may not do this to this thing."""

    status = 403
    title = "Forbidden"


class Unauthorized(HubError):
    """The credentials are missing or wrong."""

    status = 401
    title = "Unauthorized"


class Invalid(HubError):
    """The request is well-formed but its values are not acceptable."""

    status = 422
    title = "Invalid request"

    def __init__(
        self, message: str, *, field: str | None = None, key: str = "", **params: Any
    ) -> None:
        super().__init__(message, key=key, **params)
        self.field = field


class Unavailable(HubError):
    """Something the request needs (a device, a server) doesn't answer now; try again later."""

    status = 503
    title = "Unavailable"


class TooManyAttempts(HubError):
    """Too many failed attempts from this account or address: wait `retry_after` seconds."""

    status = 429
    title = "Too many attempts"

    def __init__(self, message: str, *, retry_after: int, key: str = "", **params: Any) -> None:
        super().__init__(message, key=key, **params)
        self.retry_after = max(1, retry_after)
