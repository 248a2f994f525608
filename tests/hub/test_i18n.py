"""Messages by catalogue key: the reader's language, names in English where given, times in
the site's zone; an unknown key still says something."""

from __future__ import annotations

from hub.i18n import MESSAGES, render

ARGS = {
    "route": "西线巡逻",
    "route_en": "West round",
    "checkpoint": "配电房",
    "checkpoint_en": "Switch room",
    "deadline_at": "2026-12-04T14:05:00+00:00",
}


def test_a_message_reads_in_each_language_with_the_sites_local_time() -> None:
    assert (
        render("patrol.missed", ARGS, "zh-CN", "Asia/Shanghai")
        == "西线巡逻：配电房 未在 22:05 前巡到"
    )
    assert (
        render("patrol.missed", ARGS, "en", "Asia/Shanghai")
        == "West round: Switch room not visited by 22:05"
    )
    assert render("patrol.missed", ARGS, "en", "UTC").endswith("by 14:05")


def test_every_key_is_in_every_language_and_unknown_keys_show_themselves() -> None:
    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])
    assert render("no.such", {"a": 1}, "zh-CN", "UTC") == "no.such {'a': 1}"
    assert render(
        "patrol.late", {"guard": "王保安", "checkpoint": "配电房", "min": 12.0}, "fr", "UTC"
    ) == ("王保安 巡到 配电房，超过截止时间 12 分钟")


def test_ids_in_a_message_read_as_the_sites_names() -> None:
    names = {"ahu-b2": "2号楼空调机组", "route-west": "西线巡逻", "cp-plant": "配电房"}
    said = render("fault.raised", {"device_id": "ahu-b2", "detail": "fan"}, "zh-CN", "UTC", names)
    assert said == "2号楼空调机组 故障：fan"
    fences = render(
        "geofence.exit",
        {"subject_id": "g9", "fences_id": "route-west/cp-plant"},
        "en",
        "UTC",
        names,
    )
    assert fences == "g9 left 西线巡逻/配电房"  # unknown ids stay as they are
