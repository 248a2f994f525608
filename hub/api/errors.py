"""Errors as RFC 9457 problem details, mapped in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.domain import RetryLater
from hub.errors import HubError, Invalid, TooManyAttempts, Unavailable

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, err: HubError) -> JSONResponse:
        extra: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if isinstance(err, Invalid) and err.field:
            extra["errors"] = [{"field": err.field, "message": str(err)}]
        if isinstance(err, TooManyAttempts):
            headers["Retry-After"] = str(err.retry_after)
        elif isinstance(err, Unavailable):
            headers["Retry-After"] = "5"
        if err.key:  # the catalogue's message and its values, for the reader's language
            extra["code"] = err.key
            extra["params"] = err.params
        return problem(err.status, err.title, str(err), headers=headers or None, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "message": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in err.errors()
        ]
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        return problem(
            422,
            "Invalid request",
            f"some fields are not valid: {fields}",
            errors=errors,
            code="fields",
            params={"fields": fields},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return problem(err.status_code, str(err.detail), "")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(RetryLater)  # the alarm book's word for the same
    async def _database(request: Request, err: Exception) -> JSONResponse:
        # The database went away (a restart, the network): nothing was changed; say so and
        # when to try again. The pool reconnects by itself once it is back.
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            str(err).splitlines()[0],
        )
        return problem(
            503,
            "Service unavailable",
            "the database is unavailable; nothing was changed, try again shortly",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, err: RecursionError) -> JSONResponse:
        # JSON nested thousands deep ([[[[…) exhausts the parser's recursion: bad input
        return problem(400, "Bad request", "the body is nested too deeply")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the hub logged the details")
