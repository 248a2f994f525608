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
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from email.message import EmailMessage
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hub.domain import AlarmEvent, Notice, TicketEvent
from hub.pipeline import Envelope
from hub.services.assembly import Consumer, Part, Shared
from hub.settings import EmailSettings, NotifySettings, WebhookSettings
from hub.tasks import cancel

log = logging.getLogger(__name__)

SEVERITY_RANK = {"warning": 0, "minor": 1, "major": 2, "critical": 3}
SEVERITY_ZH = {"critical": "紧急", "major": "重要", "minor": "次要", "warning": "提示"}
ACTION_ZH = {
    "raised": "新告警",
    "repeated": "再次发生",
    "reminded": "未确认提醒",
    "escalated": "告警升级",
    "cleared": "已恢复",
    "acknowledged": "已确认",
    "assigned": "已指派",
    "shelved": "已搁置",
}
TYPE_ZH = {
    "equipment_fault": "设备故障",
    "geofence_exit": "驶出电子围栏",
    "geofence_enter": "进入电子围栏",
    "threshold": "数值越限",
    "silence": "设备无数据",
    "patrol_missed": "漏巡",
    "patrol_late": "迟巡",
    "patrol_out_of_order": "巡更顺序错误",
    "lone_worker": "保安长时间未移动",
    "vehicle_unauthorised": "公务车未经审批使用",
    "rule_failure": "规则故障",
}
STATE_ZH = {
    "ACTIVE_UNACK": "未确认",
    "ACTIVE_ACK": "已确认",
    "CLEARED_UNACK": "已恢复（未确认）",
    "CLEARED_ACK": "已恢复",
}


def _markdown(a: AlarmEvent, tz: ZoneInfo, site: str) -> tuple[str, str]:
    title = f"【{ACTION_ZH.get(a.action, a.action)}】{TYPE_ZH.get(a.alarm_type, a.alarm_type)}"
    when = a.ts.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    text = (
        f"### {title} · {SEVERITY_ZH.get(a.severity, a.severity)}\n"
        f"> 对象：{a.originator}\n"
        f"> 状态：{STATE_ZH.get(a.state, a.state)}\n"
        f"> 时间：{when}\n"
        f"> 站点：{site}\n\n"
        f"{a.message}"
    )
    return title, text


def render(a: AlarmEvent, fmt: str, tz: ZoneInfo, site: str) -> dict[str, Any]:
    """The request body for a webhook of format `fmt`."""
    if fmt == "json":
        return {
            "site": site,
            "alarm_id": a.alarm_id,
            "type": a.alarm_type,
            "originator": a.originator,
            "state": a.state,
            "severity": a.severity,
            "action": a.action,
            "message": a.message,
            "ts": a.ts.isoformat(),
        }
    title, text = _markdown(a, tz, site)
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}  # dingtalk


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


def _mail(a: AlarmEvent, tz: ZoneInfo, site: str, sender: str, to: list[str]) -> EmailMessage:
    title, text = _markdown(a, tz, site)
    msg = EmailMessage()
    msg["Subject"] = f"{title} · {SEVERITY_ZH.get(a.severity, a.severity)} · {a.originator}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg.set_content(text.replace("### ", "").replace("> ", ""))
    return msg


TICKET_ZH = {
    "assigned": "新维修工单已派给您",
    "accepted": "维修工单已受理",
    "held": "维修工单暂停（等待配件等）",
    "resolved": "维修已完成，请确认并评价",
    "reopened": "维修工单被退回重修",
    "rated": "维修工单已评价",
    "rating_reminder": "请评价已完成的维修",
}


def _ticket_mail(t: TicketEvent, site: str, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    what = TICKET_ZH.get(t.action, t.action)
    msg["Subject"] = f"【{what}】#{t.ticket_id} {t.title}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg.set_content(
        f"{what}\n工单：#{t.ticket_id} {t.title}\n状态：{t.status}\n"
        f"类别：{t.category} · 优先级：{t.priority}\n站点：{site}\n"
    )
    return msg


def _notice_mail(n: Notice, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = n.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg.set_content(n.body)
    return msg


def send_mail(cfg: EmailSettings, msg: EmailMessage, timeout: float) -> None:
    """Send through the configured SMTP server; DeliveryError on any failure."""
    try:
        smtp_cls = smtplib.SMTP_SSL if cfg.security == "tls" else smtplib.SMTP
        with smtp_cls(cfg.host, cfg.port, timeout=timeout) as smtp:
            if cfg.security == "starttls":
                smtp.starttls()
            if cfg.username:
                password = cfg.password.get_secret_value() if cfg.password else ""
                smtp.login(cfg.username, password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as err:
        raise DeliveryError(f"SMTP: {err}") from None


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
    ) -> None:
        self._settings = settings
        self._site = site
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
            post(url, render(event, w.format, self._tz, self._site), w.format, timeout)

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
            send_mail(cfg, _mail(event, self._tz, self._site, cfg.sender, to), timeout)

        target = _Target(f"email {cfg.host}:{cfg.port}", cfg.actions, cfg.min_severity, send, 1000)
        return target

    def _ticket_email(self, cfg: EmailSettings) -> _Target:
        timeout = self._settings.timeout_s

        def send(event: TicketEvent | Notice) -> None:
            to = self._people(event.notify)
            if not to:
                return
            if isinstance(event, Notice):
                send_mail(cfg, _notice_mail(event, cfg.sender, to), timeout)
            else:
                send_mail(cfg, _ticket_mail(event, self._site, cfg.sender, to), timeout)

        label = f"email tickets {cfg.host}:{cfg.port}"
        return _Target(label, [], "warning", send, 1000, tickets=True)

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler: queue each alarm change for the webhooks that want it, and each
        ticket change for the people it concerns (e-mail)."""
        for env in batch:
            event = env.event
            if not isinstance(event, AlarmEvent | TicketEvent | Notice):
                continue
            if self.mqtt is not None and isinstance(event, AlarmEvent):
                body = render(event, "json", self._tz, self._site)
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
    )
    consumer = Consumer("notify", notifier, kinds=("alarm", "ticket", "notice"), lossless=False)
    return Part(notifier, consumers=[consumer], components=[notifier])
