"""Secrets out of the logs: credentials that travel in URLs (`/ws?token=`, calendar feeds,
`/api/osmand?key=`, a door's `code=`) and plates in paths are masked before a log line is
written."""

from __future__ import annotations

import logging
import re

# query parameters that carry a credential; the value runs to the next & or the line's end
_SECRET_PARAM = re.compile(r"([?&](?:token|key|access_token|code|api_key)=)[^&\s\"']*", re.I)
# a bearer token or API key written out anywhere else in a message
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
_API_KEY = re.compile(r"\bdyh_[A-Za-z0-9_-]+")
# personal data in a path: a plate unlisted by DELETE /api/gate/plates/{plate}
_PLATE_PATH = re.compile(r"(/api/gate/plates/)[^/?\s\"']+")


def redact(text: str) -> str:
    """`text` with every credential replaced by `***`."""
    text = _SECRET_PARAM.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _PLATE_PATH.sub(r"\1***", text)
    return _API_KEY.sub("dyh_***", text)


class RedactSecrets(logging.Filter):
    """A logging filter masking credentials in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


# uvicorn's access log writes the full path with its query; its error log the websocket's
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")


def install() -> None:
    """Mask credentials in the HTTP server's logs (idempotent)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
