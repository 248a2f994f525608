"""A real SMTP server on a free loopback port (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


class Inbox:
    """The mails received: (recipients, message)."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=default)
        self.mails.append((list(envelope.rcpt_tos), mail))  # type: ignore[arg-type]
        return "250 OK"

    def wait(self, n: int, timeout: float = 15.0) -> None:
        """Until `n` mails have come (AssertionError with what came after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.mails) < n:
            assert time.monotonic() < deadline, self.mails
            time.sleep(0.05)


@contextlib.contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    """An SMTP server at 127.0.0.1:`inbox.port` while the block runs."""
    inbox = Inbox()
    inbox.port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    smtp.start()
    try:
        yield inbox
    finally:
        smtp.stop()
