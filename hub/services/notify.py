"""Alarm notifications to other systems: an MQTT topic and webhooks (generic JSON, WeCom and
DingTalk group robots). A lossy pipeline consumer of alarm events: MQTT messages go to the
broker client's own queue (adapters.mqtt.MqttSender, handed in by the composition root); each
webhook has a bounded queue and a worker that posts with retries and backoff, so a slow or
dead endpoint never holds up the rules engine (a full queue drops its oldest message,
counted)."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hub.domain import AlarmEvent, Notice, TicketEvent
from hub.i18n import site_names
from hub.pipeline import Envelope
from hub.services.assembly import Consumer, Part, Shared
from hub.services.notify_apps import WorkApp
from hub.services.notify_delivery import DeliveryError, _Target, post, send_mail
from hub.services.notify_messages import _mail, _notice_mail, _ticket_mail, render
from hub.settings import EmailSettings, NotifySettings, WebhookSettings, WorkAppSettings
from hub.tasks import cancel

log = logging.getLogger(__name__)


class MessageSender(Protocol):
    """Where alarm changes go for other systems: the hub's broker (adapters.mqtt.MqttSender)."""

    connected: bool
    sent: int

    def start(self) -> None:
        """Connect in the background."""
        ...

    def stop(self) -> None:
        """Disconnect."""
        ...

    def publish(self, topic: str, payload: bytes) -> bool:
        """Queue one message without blocking; False when it was dropped."""
        ...


class Directory(Protocol):
    """Who to tell: e-mail addresses of users and roles (the identity service)."""

    def emails_for(self, targets: Iterable[str]) -> list[str]:
        """The addresses of `user:NAME` and `role:ROLE` targets."""
        ...

    def usernames_for(self, targets: Iterable[str]) -> list[str]:
        """The active usernames of `user:NAME` (or bare) and `role:ROLE` targets."""
        ...


class Notifier:
    """Sends alarm changes to the configured webhooks and the MQTT topic (a pipeline consumer
    and a component)."""

    name = "notifications"

    def __init__(
        self,
        settings: NotifySettings,
        *,
        site: str,
        timezone: str,
        mqtt: MessageSender | None = None,
        recipients: Callable[[str], list[str]] = lambda _rule: [],
        people: Callable[[Sequence[str]], list[str]] = lambda _names: [],
        names: dict[str, str] | None = None,
        usernames: Callable[[Sequence[str]], list[str]] = lambda _names: [],
        app_ids: dict[str, dict[str, str]] | None = None,
        public_url: str = "",
    ) -> None:
        self._settings = settings
        self._site = site
        self._public_url = public_url
        self._names = names or {}  # the site's things by id, in the site's language
        self._tz = ZoneInfo(timezone)
        self._recipients = recipients
        self._people = people  # usernames -> e-mail addresses (ticket changes)
        self.mqtt = mqtt if settings.mqtt_topic else None
        self.topic = settings.mqtt_topic.rstrip("/")
        self.mqtt_dropped = 0
        self._targets = [self._webhook(w) for w in settings.webhooks]
        if settings.email is not None:
            self._targets.append(self._email(settings.email))
            self._targets.append(self._ticket_email(settings.email))
        for app in settings.apps:  # each person's messages to their WeCom / DingTalk
            self._targets.append(self._work_app(app, usernames, app_ids or {}, public_url))
        seen: Counter[str] = Counter()
        for t in self._targets:  # two robots on one host and path differ only by their key
            seen[t.label] += 1
            if seen[t.label] > 1:
                t.label = f"{t.label} #{seen[t.label]}"

    def _webhook(self, w: WebhookSettings) -> _Target:
        url = w.url.get_secret_value()
        parts = urllib.parse.urlsplit(url)
        timeout = self._settings.timeout_s

        def send(event: AlarmEvent) -> None:
            post(url, render(event, w.format, self._tz, self._site, self._names), w.format, timeout)

        label = w.name or f"{w.format} {parts.netloc}{parts.path}"  # never the query
        return _Target(label, w.actions, w.min_severity, send, self._settings.queue)

    def _email(self, cfg: EmailSettings) -> _Target:
        timeout = self._settings.timeout_s
        target: _Target

        def send(event: AlarmEvent) -> None:
            to = self._recipients(event.rule)
            if not to:
                target.counts["no_recipients"] += 1
                return
            send_mail(cfg, _mail(event, self._tz, self._site, cfg.sender, to, self._names), timeout)

        target = _Target(f"email {cfg.host}:{cfg.port}", cfg.actions, cfg.min_severity, send, 1000)
        return target

    def _ticket_email(self, cfg: EmailSettings) -> _Target:
        timeout = self._settings.timeout_s

        def send(event: TicketEvent | Notice) -> None:
            to = self._people(event.notify)
            if not to:
                return
            if isinstance(event, Notice):
                send_mail(cfg, _notice_mail(event, cfg.sender, self._public_url), timeout, to)
            else:
                send_mail(cfg, _ticket_mail(event, self._site, cfg.sender, to), timeout)

        label = f"email tickets {cfg.host}:{cfg.port}"
        return _Target(label, [], "warning", send, 1000, tickets=True)

    def _work_app(
        self,
        cfg: WorkAppSettings,
        usernames: Callable[[Sequence[str]], list[str]],
        app_ids: dict[str, dict[str, str]],
        public_url: str,
    ) -> _Target:
        app = WorkApp(
            cfg,
            usernames=usernames,
            app_ids=app_ids.get(cfg.kind, {}),
            public_url=public_url,
            timeout=self._settings.timeout_s,
        )
        target: _Target

        def send(event: TicketEvent | Notice) -> None:
            if not app.send(event):
                target.counts["no_recipients"] += 1

        target = _Target(app.label, [], "warning", send, self._settings.queue, tickets=True)
        return target

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler: queue each alarm change for the webhooks that want it, and each
        ticket change for the people it concerns (e-mail)."""
        for env in batch:
            event = env.event
            if not isinstance(event, AlarmEvent | TicketEvent | Notice):
                continue
            if self.mqtt is not None and isinstance(event, AlarmEvent):
                body = render(event, "json", self._tz, self._site, self._names)
                payload = json.dumps(body, ensure_ascii=False).encode()
                if not self.mqtt.publish(f"{self.topic}/{event.alarm_type}", payload):
                    self.mqtt_dropped += 1
            for t in self._targets:
                if t.wants(event):
                    t.offer(event)

    async def start(self) -> None:
        """A delivery worker per webhook; the MQTT connection."""
        if self.mqtt is not None:
            self.mqtt.start()
        for t in self._targets:
            t.task = asyncio.create_task(self._deliver(t), name=f"notify:{t.label}")

    async def stop(self) -> None:
        """Stop delivering (what is queued is dropped: alarms stay in the alarm book)."""
        if self.mqtt is not None:
            await asyncio.to_thread(self.mqtt.stop)
        await cancel([t.task for t in self._targets if t.task is not None])

    async def _deliver(self, t: _Target) -> None:
        s = self._settings
        while True:
            event = await t.queue.get()
            for attempt in range(1, s.attempts + 1):
                try:
                    await asyncio.to_thread(t.send, event)
                except DeliveryError as err:
                    t.last_error = str(err)
                    t.counts["retried" if attempt < s.attempts else "failed"] += 1
                    if attempt < s.attempts:
                        await asyncio.sleep(s.backoff_s * 2 ** (attempt - 1))
                    else:
                        log.warning("%r not delivered to %s: %s", event, t.label, err)
                else:
                    t.counts["sent"] += 1
                    t.last_error = ""
                    break

    def health(self) -> dict[str, Any]:
        """Per webhook: sent, retried, failed, dropped, queued, last error (degraded while an
        endpoint's latest attempt failed)."""
        failing = any(t.last_error for t in self._targets)
        return {
            "status": "degraded" if failing else "ok",
            "mqtt": (
                {
                    "topic": self.topic,
                    "connected": self.mqtt.connected,
                    "sent": self.mqtt.sent,
                    "dropped": self.mqtt_dropped,
                }
                if self.mqtt is not None
                else None
            ),
            "webhooks": {
                t.label: {**t.counts, "queued": t.queue.qsize(), "last_error": t.last_error}
                for t in self._targets
            },
        }


# Who hears of the alarms the hub raises itself, where the site file names no one.
DEFAULT_ROUTES = {
    "ticket-sla": ["role:dispatcher"],  # overdue repairs
    "gate": ["role:security"],  # refusals repeating, visitors overstaying
    "auth": ["role:security"],  # sign-ins locked after many failures
}


def assemble(
    shared: Shared, people: Directory, mqtt: MessageSender | None = None
) -> Part[Notifier]:
    """The notifier: alarm, ticket and notice events from the pipeline (lossy: the live
    queue's newest matter) to the webhooks, e-mail and the MQTT topic; each rule's alarms to
    the people its `notify` names."""
    routes = {r.id: list(getattr(r, "notify", [])) for r in shared.site.rules}
    for rule, who in DEFAULT_ROUTES.items():
        routes.setdefault(rule, who)
    notifier = Notifier(
        shared.settings.notify,
        site=shared.site.site.name,
        timezone=shared.site.site.timezone,
        mqtt=mqtt,
        recipients=lambda rule: people.emails_for(routes.get(rule, [])),
        people=lambda names: people.emails_for(
            [n if n.startswith("role:") else f"user:{n}" for n in names]
        ),
        names=site_names(shared.site)[shared.site.site.locale],
        usernames=people.usernames_for,
        app_ids={
            "wecom": {p.username: p.wecom for p in shared.site.people if p.username and p.wecom},
            "dingtalk": {
                p.username: p.dingtalk for p in shared.site.people if p.username and p.dingtalk
            },
        },
        public_url=shared.settings.public_url or "",
    )
    consumer = Consumer("notify", notifier, kinds=("alarm", "ticket", "notice"), lossless=False)
    return Part(notifier, consumers=[consumer], components=[notifier])
