"""Getting notifications out: posting to webhooks, sending e-mail, and each destination's
bounded queue."""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from hub.domain import AlarmEvent, Notice, TicketEvent
from hub.services.notify_messages import SEVERITY_RANK
from hub.settings import EmailSettings

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The endpoint refused or failed."""


def post(url: str, body: dict[str, Any], fmt: str, timeout: float) -> None:
    """POST JSON; robots answer 200 with {"errcode": 0} on success."""
    data = json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(  # noqa: S310 (URL checked to be http(s) in settings)
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            answer = resp.read()
    except urllib.error.HTTPError as err:
        raise DeliveryError(f"HTTP {err.code}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DeliveryError(str(getattr(err, "reason", err))) from None
    if fmt in ("wecom", "dingtalk"):
        try:
            code = json.loads(answer).get("errcode", 0)
        except (ValueError, AttributeError):
            raise DeliveryError("robot answered something other than JSON") from None
        if code != 0:
            raise DeliveryError(f"robot errcode {code}")


class _Target:
    """One destination: a filter, a blocking `send` that raises DeliveryError, a queue.
    Alarm targets take the alarm changes of their actions and severities; a ticket target
    takes the ticket changes that name someone to tell."""

    def __init__(
        self,
        label: str,
        actions: list[str],
        min_severity: str,
        send: Callable[[Any], None],
        maxsize: int,
        *,
        tickets: bool = False,
    ) -> None:
        self.label = label
        self.actions = actions
        self.min_rank = SEVERITY_RANK[min_severity]
        self.send = send
        self.tickets = tickets
        self.queue: asyncio.Queue[AlarmEvent | TicketEvent | Notice] = asyncio.Queue(maxsize)
        self.counts: Counter[str] = Counter()
        self.last_error = ""
        self.task: asyncio.Task[None] | None = None

    def wants(self, event: AlarmEvent | TicketEvent | Notice) -> bool:
        if isinstance(event, TicketEvent | Notice):
            return self.tickets and bool(event.notify)
        return (
            not self.tickets
            and event.action in self.actions
            and SEVERITY_RANK.get(event.severity, 0) >= self.min_rank
        )

    def offer(self, event: AlarmEvent | TicketEvent | Notice) -> None:
        """Queue for delivery; a full queue drops its oldest (counted)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.counts["dropped"] += 1
        self.queue.put_nowait(event)


def send_mail(
    cfg: EmailSettings, msg: EmailMessage, timeout: float, to: list[str] | None = None
) -> None:
    """Send through the configured SMTP server (to `to`, else to whom the message's headers
    name); DeliveryError on any failure."""
    try:
        smtp_cls = smtplib.SMTP_SSL if cfg.security == "tls" else smtplib.SMTP
        with smtp_cls(cfg.host, cfg.port, timeout=timeout) as smtp:
            if cfg.security == "starttls":
                smtp.starttls()
            if cfg.username:
                password = cfg.password.get_secret_value() if cfg.password else ""
                smtp.login(cfg.username, password)
            smtp.send_message(msg, to_addrs=to)
    except (smtplib.SMTPException, OSError) as err:
        raise DeliveryError(f"SMTP: {err}") from None
