"""The patrol report of a period: per guard, route and shift, the tours, the checkpoints on
time, late, missed and out of order, the tours nobody watched (the hub was down), the refused
visits and scans, compliance in percent; and every tour with the evidence of each visit.

Compliance is checkpoints visited on time over checkpoints due in the tours that were watched
(an unobserved tour is neither good nor bad: it is counted on its own). A tour counts for each
guard who answers for it (those who walked it; nobody walked it: the route's guards on duty).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain.patrol import Evidence, Method, TourRecord
from hub.i18n import language
from hub.services.periods import Period
from hub.site import Site
from hub.site.hours import in_hours


@dataclass
class Figures:
    """What a group of tours adds up to."""

    tours: int = 0  # watched tours
    unobserved: int = 0  # tours nobody watched (the hub was down)
    due: int = 0  # checkpoints due in the watched tours
    on_time: int = 0
    late: int = 0
    missed: int = 0
    out_of_order: int = 0
    refused: int = 0  # proven visits that did not count (too fast, off duty, off the route)
    refused_scans: int = 0  # codes refused (expired, wrong, replayed)

    @property
    def compliance(self) -> float | None:
        """Checkpoints on time over checkpoints due, in percent (None: nothing was due)."""
        return round(100 * self.on_time / self.due, 1) if self.due else None

    def add(self, r: TourRecord) -> None:
        """Count a tour."""
        if r.unobserved:
            self.unobserved += 1
            return
        self.tours += 1
        self.due += len(r.checkpoints)
        self.on_time += r.on_time
        self.late += r.late
        self.missed += len(r.missed)
        self.out_of_order += len(r.out_of_order)
        self.refused += len(r.refused)

    def as_json(self) -> dict[str, Any]:
        """The figures with the compliance."""
        return {**asdict(self), "compliance": self.compliance}


def describe(e: Evidence, lang: str) -> str:
    """How a visit was proven, in a few words."""
    d = e.detail
    zh = lang == "zh-CN"
    if e.method is Method.BLE:
        where = f"{d['distance_m']} m" if "distance_m" in d else f"{d.get('rssi')} dBm"
        if zh:
            return f"蓝牙 {where}，{d.get('reports')} 次/{d.get('seconds')} 秒"
        return f"BLE {where}, {d.get('reports')} reports / {d.get('seconds')} s"
    if e.method is Method.GPS:
        if zh:
            return f"定位 距 {d.get('distance_m')} 米 ±{d.get('accuracy_m')} 米"
        return f"GPS {d.get('distance_m')} m ±{d.get('accuracy_m')} m"
    source = str(d.get("source", ""))
    return f"扫码（{source}）" if zh else f"code ({source})"


@dataclass
class PatrolReport:
    """A period's patrol report (`as_json` is what the page, the API and the stored JSON
    carry; the PDF and XLSX are rendered from it)."""

    site: str
    period: Period
    lang: str
    generated_at: str
    total: Figures = field(default_factory=Figures)
    by_guard: dict[str, Figures] = field(default_factory=dict)
    by_route: dict[str, Figures] = field(default_factory=dict)
    by_shift: dict[str, Figures] = field(default_factory=dict)
    tours: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "site": self.site,
            "lang": self.lang,
            "period": {
                "kind": self.period.kind,
                "label": self.period.label,
                "first": self.period.first.isoformat(),
                "last": self.period.last.isoformat(),
            },
            "generated_at": self.generated_at,
            "total": self.total.as_json(),
            "by_guard": {k: v.as_json() for k, v in self.by_guard.items()},
            "by_route": {k: v.as_json() for k, v in self.by_route.items()},
            "by_shift": {k: v.as_json() for k, v in self.by_shift.items()},
            "tours": self.tours,
            "names": self.names,
        }


def _names(site: Site, lang: str) -> dict[str, dict[str, str]]:
    en = lang == "en"

    def pick(name: str, name_en: str | None) -> str:
        return (name_en or name) if en else name

    return {
        "guards": {p.id: p.name for p in site.people},
        "routes": {r.id: pick(r.name, r.name_en) for r in site.patrol_routes},
        "checkpoints": {c.id: pick(c.name, c.name_en) for c in site.checkpoints},
        "shifts": {s.id: pick(s.name, s.name_en) for s in site.site.patrol.shifts},
    }


def shift_of(site: Site, at: datetime) -> str:
    """The shift a tour starting at `at` belongs to ("" when none holds that hour)."""
    tz = site.site.timezone
    return next((s.id for s in site.site.patrol.shifts if in_hours(s.hours, at, tz)), "")


def _tour_row(r: TourRecord, site: Site, lang: str, tz: ZoneInfo) -> dict[str, Any]:
    visits = {v.checkpoint: v for v in r.visits}
    return {
        "route": r.route,
        "start": r.start.astimezone(tz).isoformat(),
        "shift": shift_of(site, r.start),
        "guards": list(r.guards),
        "unobserved": r.unobserved,
        "on_time": r.on_time,
        "late": r.late,
        "missed": list(r.missed),
        "out_of_order": list(r.out_of_order),
        "checkpoints": [
            {
                "checkpoint": cp,
                "state": "unobserved"
                if r.unobserved
                else "missed"
                if cp not in visits
                else "late"
                if visits[cp].late
                else "on_time",
                "at": visits[cp].at.astimezone(tz).isoformat() if cp in visits else None,
                "by": visits[cp].by if cp in visits else None,
                "evidence": [describe(e, lang) for e in visits[cp].evidence]
                if cp in visits
                else [],
            }
            for cp in r.checkpoints
        ],
        "refused": [
            {
                "checkpoint": x.checkpoint,
                "by": x.by,
                "at": x.at.astimezone(tz).isoformat(),
                "reason": x.reason.value,
                "detail": x.detail,
            }
            for x in r.refused
        ],
    }


def build(
    site: Site,
    period: Period,
    tours: Iterable[TourRecord],
    refused_scans: Mapping[str, Mapping[str, int]],
    *,
    lang: str,
    now: datetime,
) -> PatrolReport:
    """The report of `period` from its tours and the scans refused in it."""
    lang = language(lang)
    tz = ZoneInfo(site.site.timezone)
    name = site.site.name if lang == "zh-CN" else site.site.name_en or site.site.name
    report = PatrolReport(
        site=name,
        period=period,
        lang=lang,
        generated_at=now.astimezone(tz).isoformat(timespec="seconds"),
        names=_names(site, lang),
    )
    for r in tours:
        report.total.add(r)
        report.by_route.setdefault(r.route, Figures()).add(r)
        report.by_shift.setdefault(shift_of(site, r.start), Figures()).add(r)
        for g in r.guards:
            report.by_guard.setdefault(g, Figures()).add(r)
        report.tours.append(_tour_row(r, site, lang, tz))
    for guard, reasons in refused_scans.items():
        n = sum(reasons.values())
        report.by_guard.setdefault(guard, Figures()).refused_scans += n
        report.total.refused_scans += n
    return report


def guards_sorted(report: PatrolReport) -> Sequence[str]:
    """The guards in the report, by name."""
    names = report.names.get("guards", {})
    return sorted(report.by_guard, key=lambda g: names.get(g, g))
