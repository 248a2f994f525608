"""What every answer carries and every request is held to, as plain ASGI middleware (no
per-request task or copy of the body, so the gate's hot path stays lean):

- browser security headers: a Content-Security-Policy without inline scripts, no framing
  (the wall display only where `HUB_WALL_FRAME_ANCESTORS` allows), `nosniff`, a strict
  referrer policy, and HSTS when the hub is reached over HTTPS;
- a limit on request bodies, answered 413 before the body is read when its length is
  declared, and as soon as it passes the limit when it is not.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024


def content_security_policy(*, tile_url: str | None, frame_ancestors: str) -> str:
    """The pages' policy: scripts and styles from the hub only (styles may be set inline by
    Leaflet), images also as data/blob URLs and from the tile server if one is configured."""
    img = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            img.append(f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(img)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


class Shield:
    """Security headers on every HTTP answer, and a bound on request bodies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str,
        wall_csp: str,
        max_body: int = MiB,
        max_upload: int = 12 * MiB,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
        ]
        self._headers = [(b"content-security-policy", csp.encode()), *common]
        self._wall_headers = [(b"content-security-policy", wall_csp.encode()), *common]
        if "frame-ancestors 'none'" in csp:
            self._headers.append((b"x-frame-options", b"DENY"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wall = scope["path"] in ("/wall.html", "/wall")
        extra = list(self._wall_headers if wall else self._headers)
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        limit = self._limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send_with_headers, limit)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and not declared:
            await self.app(scope, receive, send_with_headers)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, counted, tracking)
        except _BodyTooLarge:
            if not started:
                await _too_large(send_with_headers, limit)

    def _limit(self, scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-type" and value.startswith(b"multipart/"):
                return self.max_upload
        return self.max_body


class _BodyTooLarge(HTTPException):
    """A request body ran past its limit while it was read (the app answers it as a 413
    problem like any HTTP error)."""

    def __init__(self) -> None:
        super().__init__(413, "Request too large")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Request too large",
            "status": 413,
            "detail": f"a request body may have at most {limit // 1024} KiB",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
