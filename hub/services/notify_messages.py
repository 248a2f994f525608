"""What notifications say: alarm, ticket and notice messages for webhooks (WeCom and
DingTalk markdown, generic JSON) and e-mail, in the site's language and time zone."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from hub import i18n
from hub.domain import AlarmEvent, Notice, TicketEvent

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
    "patrol_implausible": "巡更异常（不予计入）",
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


def said(
    a: AlarmEvent, tz: ZoneInfo, lang: str = "zh-CN", names: dict[str, str] | None = None
) -> str:
    """The alarm's message in `lang` (from the catalogue when the rule gave its key), the
    site's things by `names`."""
    if a.say and isinstance(a.say.get("key"), str):
        return i18n.render(a.say["key"], a.say.get("args") or {}, lang, tz.key, names)
    return a.message


def _markdown(
    a: AlarmEvent, tz: ZoneInfo, site: str, names: dict[str, str] | None = None
) -> tuple[str, str]:
    title = f"【{ACTION_ZH.get(a.action, a.action)}】{TYPE_ZH.get(a.alarm_type, a.alarm_type)}"
    when = a.ts.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    text = (
        f"### {title} · {SEVERITY_ZH.get(a.severity, a.severity)}\n"
        f"> 对象：{i18n.named(a.originator, names or {})}\n"
        f"> 状态：{STATE_ZH.get(a.state, a.state)}\n"
        f"> 时间：{when}\n"
        f"> 站点：{site}\n\n"
        f"{said(a, tz, names=names)}"
    )
    return title, text


def render(
    a: AlarmEvent, fmt: str, tz: ZoneInfo, site: str, names: dict[str, str] | None = None
) -> dict[str, Any]:
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
            "text": said(a, tz, names=names),  # in the site's language (zh-CN)
            "ts": a.ts.isoformat(),
        }
    title, text = _markdown(a, tz, site, names)
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}  # dingtalk


def _mail(
    a: AlarmEvent,
    tz: ZoneInfo,
    site: str,
    sender: str,
    to: list[str],
    names: dict[str, str] | None = None,
) -> EmailMessage:
    title, text = _markdown(a, tz, site, names)
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


def _notice_mail(n: Notice, sender: str, public_url: str = "") -> EmailMessage:
    """A message for some people (a notice, a visitor's arrival, a complaint's answer), with
    the link to act on it. It names none of its recipients (`to` is the envelope's, as for a
    blind copy): a notice to the whole compound must not hand everyone's address to everyone."""
    msg = EmailMessage()
    msg["Subject"] = n.subject
    msg["From"] = sender
    msg["To"] = "undisclosed-recipients:;"  # an empty group: nobody is named
    link = f"\n\n{public_url.rstrip('/')}{n.link}" if n.link and public_url else ""
    msg.set_content(n.body + link)
    return msg
