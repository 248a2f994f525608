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

LANGUAGES = ("zh-CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "patrol.missed": "{route}：{checkpoint} 未在 {deadline_at} 前巡到",
        "patrol.late": "{guard} 巡到 {checkpoint}，超过截止时间 {min} 分钟",
        "patrol.out_of_order": "{guard} 先巡 {checkpoint}，{skipped} 尚未巡到",
        "patrol.too_fast": "{guard} 在 {checkpoint} 的巡更不予计入：{detail}，快于步行",
        "patrol.tour_over": "{route}：本轮巡更结束",
    },
    "en": {
        "patrol.missed": "{route}: {checkpoint} not visited by {deadline_at}",
        "patrol.late": "{guard} visited {checkpoint} {min} min after its deadline",
        "patrol.out_of_order": "{guard} visited {checkpoint} before {skipped}",
        "patrol.too_fast": "{guard}'s visit to {checkpoint} refused: {detail}, faster than walking",
        "patrol.tour_over": "{route}: tour over",
    },
}

_ARG = re.compile(r"\{(\w+)\}")


def language(lang: str | None, default: str = "zh-CN") -> str:
    """A language the hub speaks: `lang` if it is one, else `default`."""
    return lang if lang in LANGUAGES else default


def local_time(iso: str, timezone: str) -> str:
    """An ISO time as the site's clock shows it (HH:MM)."""
    try:
        return datetime.fromisoformat(iso).astimezone(ZoneInfo(timezone)).strftime("%H:%M")
    except ValueError:
        return iso


def render(key: str, args: Mapping[str, object], lang: str, timezone: str) -> str:
    """A message in `lang`; an unknown key shows itself with its arguments."""
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
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return _ARG.sub(arg, template)


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
    ):
        for item in getattr(site, section, ()):
            name = getattr(item, "name", None) or getattr(item, "plate", None)
            if not name:
                continue
            out["zh-CN"][item.id] = name
            out["en"][item.id] = getattr(item, "name_en", None) or name
    return out
