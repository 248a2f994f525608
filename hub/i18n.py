"""The catalogue of messages the hub writes for people (alarms, reports), in the languages
its pages speak, and how one is rendered: `{name}` arguments, `name_en` preferred in English
when given, `*_at` arguments (ISO times) shown as the site's local time.

The pages render the same catalogue (served by `/api/i18n`), so an alarm raised once reads in
the language each reader chose, and a report in the language it was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.i18n_errors import ERRORS, WORDS

__all__ = ["LANGUAGES", "MESSAGES", "WORDS", "language", "named", "render", "site_names"]

LANGUAGES = ("zh-CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "patrol.missed": "{route}：{checkpoint} 未在 {deadline_at} 前巡到",
        "patrol.late": "{guard} 巡到 {checkpoint}，超过截止时间 {min} 分钟",
        "patrol.out_of_order": "{guard} 先巡 {checkpoint}，{skipped} 尚未巡到",
        "patrol.too_fast": "{guard} 在 {checkpoint} 的巡更不予计入：{detail}，快于步行",
        "patrol.tour_over": "{route}：本轮巡更结束",
        "fault.raised": "{device_id} 故障：{detail}",
        "fault.cleared": "{device_id} 故障已排除",
        "threshold.above": "{point_id} = {value}，高于 {limit}",
        "threshold.below": "{point_id} = {value}，低于 {limit}",
        "silence.raised": "{source_id} 已 {min} 分钟没有数据",
        "lone_worker.raised": "{guard_id} 已 {min} 分钟未离开 {radius} 米范围",
        "vehicle.moving": "{vehicle_id} 在院内行驶，无已批准的用车",
        "vehicle.outside": "{vehicle_id} 在大院外，无已批准的用车",
        "geofence.enter": "{subject_id} 进入 {fences_id}",
        "geofence.exit": "{subject_id} 离开 {fences_id}",
        "geofence.passed": "{subject_id} 在两次定位之间穿过 {fences_id}",
        "rule.failed": "规则 {rule} 已停用：{error}",
        "gate.denied": "{gate_id}：{presented} 在 {window} 分钟内被拒绝 {count} 次（{reason}）",
        "visit.overstay": "{visitors} 在访问结束后仍在院内（接待人 {host}）",
        "ticket.overdue": "工单 #{ticket}「{title}」{what}超时",
        "sign_in.locked": "{what} {who}：登录失败 {failures} 次，锁定至 {until_at}",
    },
    "en": {
        "patrol.missed": "{route}: {checkpoint} not visited by {deadline_at}",
        "patrol.late": "{guard} visited {checkpoint} {min} min after its deadline",
        "patrol.out_of_order": "{guard} visited {checkpoint} before {skipped}",
        "patrol.too_fast": "{guard}'s visit to {checkpoint} refused: {detail}, faster than walking",
        "patrol.tour_over": "{route}: tour over",
        "fault.raised": "{device_id} fault: {detail}",
        "fault.cleared": "{device_id}: fault cleared",
        "threshold.above": "{point_id} = {value}, above {limit}",
        "threshold.below": "{point_id} = {value}, below {limit}",
        "silence.raised": "no data from {source_id} for {min} min",
        "lone_worker.raised": "{guard_id} has not moved more than {radius} m for {min} min",
        "vehicle.moving": "{vehicle_id} moving in the compound with no approved trip",
        "vehicle.outside": "{vehicle_id} outside the compound with no approved trip",
        "geofence.enter": "{subject_id} entered {fences_id}",
        "geofence.exit": "{subject_id} left {fences_id}",
        "geofence.passed": "{subject_id} passed through {fences_id} between two fixes",
        "rule.failed": "rule {rule} disabled: {error}",
        "gate.denied": (
            "{gate_id}: {presented} refused {count} times within {window} min ({reason})"
        ),
        "visit.overstay": "{visitors} still inside after the visit ended (host {host})",
        "ticket.overdue": "ticket #{ticket} “{title}” overdue: {what}",
        "sign_in.locked": "{what} {who}: {failures} failed sign-ins, locked until {until_at}",
    },
}

for _lang, _errors in ERRORS.items():
    MESSAGES[_lang].update({f"error.{k}": v for k, v in _errors.items()})

_ARG = re.compile(r"\{(\w+)\}")


def language(lang: str | None, default: str = "zh-CN") -> str:
    """A language the hub speaks: `lang` if it is one, else `default`."""
    return lang if lang in LANGUAGES else default


def local_time(iso: str, timezone: str, form: str = "%H:%M") -> str:
    """An ISO time as the site's clock shows it (HH:MM, or `form`)."""
    try:
        return datetime.fromisoformat(iso).astimezone(ZoneInfo(timezone)).strftime(form)
    except ValueError:
        return iso


def render(
    key: str,
    args: Mapping[str, object],
    lang: str,
    timezone: str,
    names: Mapping[str, str] | None = None,
) -> str:
    """A message in `lang`; an unknown key shows itself with its arguments. Arguments ending
    in `_id` are the site's ids, shown by their `names` (each part of "a/b" or "dev.point");
    `_at` a time of day, `_when` a date and time, `_word` a word of WORDS."""
    template = MESSAGES.get(language(lang), {}).get(key)
    if template is None:
        return f"{key} {dict(args)}"

    def arg(m: re.Match[str]) -> str:
        name = m.group(1)
        value = args.get(f"{name}_en") if lang == "en" else None
        if value is None:
            value = args.get(name, m.group(0))
        if name.endswith("_at") and isinstance(value, str):
            return local_time(value, timezone)
        if name.endswith("_when") and isinstance(value, str):
            return local_time(value, timezone, "%Y-%m-%d %H:%M")
        if name.endswith("_word"):
            return WORDS.get(language(lang), {}).get(str(value), str(value).replace("_what", ""))
        if name.endswith("_id") and names:
            return named(str(value), names)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return _ARG.sub(arg, template)


def named(id_: str, names: Mapping[str, str]) -> str:
    """A site id by its name; a compound id ("route/checkpoint", "device.point") part by part."""
    if id_ in names:
        return names[id_]
    return "".join(names.get(part, part) for part in re.split(r"([/.])", id_))


def site_names(site: Any) -> dict[str, dict[str, str]]:
    """Per language, the names of the site's things by id (devices, people, vehicles,
    checkpoints, routes, fences, zones, gates, rooms, buildings), for showing an alarm's
    originator ("route-west/cp-plant") by what people call it."""
    out: dict[str, dict[str, str]] = {"zh-CN": {}, "en": {}}
    for section in (
        "buildings",
        "zones",
        "people",
        "devices",
        "checkpoints",
        "patrol_routes",
        "geofences",
        "gates",
        "rooms",
        "vehicles",
        "work_units",
        "feedback_categories",
    ):
        for item in getattr(site, section, ()):
            name = getattr(item, "name", None) or getattr(item, "plate", None)
            if not name:
                continue
            out["zh-CN"][item.id] = name
            out["en"][item.id] = getattr(item, "name_en", None) or name
    return out
