"""An energy report as tables (CSV / XLSX sheets) and as a PDF with charts (matplotlib), in
Chinese or English."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from hub.services.energy.report import EnergyReport
from hub.services.pdf import cjk_font, rc_params
from hub.services.tables import Rows

log = logging.getLogger(__name__)

TEXT = {
    "zh-CN": {
        "title": "能耗报告",
        "period": "统计期",
        "building": "建筑",
        "measure": "能源",
        "total": "用量",
        "previous": "上期",
        "change": "环比 %",
        "last_year": "去年同期",
        "yoy": "同比 %",
        "per_m2": "单位面积",
        "per_person": "人均",
        "ooh": "非工作时间用量",
        "ooh_pct": "非工作时间 %",
        "peak": "最大需量 kW",
        "by_window": "逐日用量",
        "by_hour": "逐时用量",
        "by_month": "逐月用量",
        "by_building": "各建筑用量",
        "quality": "数据质量",
        "flags": "计数器复位 / 翻转 / 数据缺口",
        "estimated": "估算时段",
        "missing": "无数据时段",
        "offline": "离线电表",
        "none": "无",
        "compound": "全院",
        "electricity": "电",
        "water": "水",
        "gas": "燃气",
        "generated": "生成时间",
    },
    "en": {
        "title": "Energy report",
        "period": "Period",
        "building": "Building",
        "measure": "Energy",
        "total": "Use",
        "previous": "Previous",
        "change": "Change %",
        "last_year": "Last year",
        "yoy": "YoY %",
        "per_m2": "Per m²",
        "per_person": "Per person",
        "ooh": "Out of hours",
        "ooh_pct": "Out of hours %",
        "peak": "Peak demand kW",
        "by_window": "Use per day",
        "by_hour": "Use per hour",
        "by_month": "Use per month",
        "by_building": "Use per building",
        "quality": "Data quality",
        "flags": "Counter resets / rollovers / gaps",
        "estimated": "Estimated windows",
        "missing": "Windows without data",
        "offline": "Meters offline",
        "none": "none",
        "compound": "Compound",
        "electricity": "Electricity",
        "water": "Water",
        "gas": "Gas",
        "generated": "Generated",
    },
}

SUMMARY_COLUMNS = [
    "building",
    "measure",
    "unit",
    "total",
    "previous",
    "change_pct",
    "last_year",
    "yoy_pct",
    "per_m2",
    "per_person",
    "out_of_hours",
    "out_of_hours_pct",
    "peak_demand_kw",
    "peak_at",
]


# The PDF's summary table: (report key, label) after the building and the measure.
PDF_COLUMNS = [
    ("total", "total"),
    ("previous", "previous"),
    ("change_pct", "change"),
    ("last_year", "last_year"),
    ("yoy_pct", "yoy"),
    ("per_m2", "per_m2"),
    ("per_person", "per_person"),
    ("out_of_hours", "ooh"),
    ("out_of_hours_pct", "ooh_pct"),
    ("peak_demand_kw", "peak"),
]


def summary_rows(report: EnergyReport) -> list[dict[str, Any]]:
    """One row per building and measure, then the compound's; a total without one reading
    behind it is blank, not 0."""

    def figures(m: Any) -> dict[str, Any]:
        out: dict[str, Any] = m.model_dump()
        if out.pop("no_data", False):
            out["total"] = None
        return out

    rows = []
    for b in report.buildings:
        for measure, m in b.measures.items():
            rows.append({"building": b.id, "measure": measure, **figures(m)})
    for measure, m in report.compound.items():
        rows.append({"building": "compound", "measure": measure, **figures(m)})
    return rows


def series_rows(report: EnergyReport) -> tuple[list[str], list[dict[str, Any]]]:
    """Consumption per window (rows) and building / measure (columns)."""
    columns = ["window"]
    rows: list[dict[str, Any]] = [{"window": w} for w in report.period.windows]
    for b in report.buildings:
        for measure, m in b.measures.items():
            key = f"{b.id} {measure} ({m.unit})"
            columns.append(key)
            for row, v in zip(rows, m.series or [], strict=True):
                row[key] = v
    return columns, rows


def quality_rows(report: EnergyReport) -> list[dict[str, Any]]:
    """Every flag, estimated and missing window and offline meter, one per row."""
    q = report.quality
    rows: list[dict[str, Any]] = [
        {"meter": f.meter, "kind": f.kind, "from": f.start, "to": f.to, "amount": f.amount}
        for f in q.flags
    ]
    rows += [
        {"meter": m, "kind": "estimated", "from": w} for m, ws in q.estimated.items() for w in ws
    ]
    rows += [{"meter": m, "kind": "missing", "from": w} for m, ws in q.missing.items() for w in ws]
    rows += [{"meter": o.meter, "kind": "offline", "from": o.last_seen} for o in q.offline]
    return rows


def sheets(report: EnergyReport) -> dict[str, tuple[Sequence[str], Rows]]:
    """The report as spreadsheet sheets: summary first (the CSV), then series and quality."""
    columns, rows = series_rows(report)
    return {
        "summary": (SUMMARY_COLUMNS, summary_rows(report)),
        "series": (columns, rows),
        "quality": (["meter", "kind", "from", "to", "amount"], quality_rows(report)),
    }


def pdf(report: EnergyReport, lang: str = "zh-CN") -> bytes:
    """The report as a PDF: a summary table, consumption per window and per building, and
    the data quality. Chinese needs a CJK font; without one the report is in English."""
    lang, t, names, rc = _style(report, lang)
    zh = lang == "zh-CN"
    site = report.site if zh else report.site_en or report.site
    period = report.period
    buf = io.BytesIO()
    with plt.rc_context(rc), PdfPages(buf) as doc:
        # page 1: summary table and the compound's figures
        fig = plt.figure(figsize=(11.69, 8.27))  # A4 landscape
        fig.suptitle(f"{site} · {t['title']} · {period.label}", fontsize=16)
        fig.text(0.05, 0.9, f"{t['period']}: {period.first} – {period.last}", fontsize=10)
        body = [
            [
                names.get(row["building"], row["building"]),
                f"{t[row['measure']]} ({row['unit']})",
                *(_fmt(row.get(key)) for key, _ in PDF_COLUMNS),
            ]
            for row in summary_rows(report)
        ]
        cols = ["building", "measure", *(label for _, label in PDF_COLUMNS)]
        ax = fig.add_axes((0.03, 0.35, 0.94, 0.5))
        ax.axis("off")
        table = ax.table(
            cellText=body, colLabels=[t[c] for c in cols], loc="upper center", cellLoc="right"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.4)
        ax2 = fig.add_axes((0.08, 0.06, 0.4, 0.25))
        _by_building(ax2, report, names, t)
        fig.text(0.55, 0.25, f"{t['generated']}: {report.generated_at[:19]}", fontsize=8)
        doc.savefig(fig)
        plt.close(fig)
        # page 2: per window
        fig, ax = plt.subplots(figsize=(11.69, 8.27))
        _by_window(ax, report, names, t)
        doc.savefig(fig)
        plt.close(fig)
        # page 3: quality
        fig = plt.figure(figsize=(11.69, 8.27))
        fig.suptitle(t["quality"], fontsize=14)
        lines = _quality_lines(report, t)
        fig.text(0.05, 0.9, "\n".join(lines[:60]), fontsize=8, va="top", family=rc["font.family"])
        doc.savefig(fig)
        plt.close(fig)
    return buf.getvalue()


def charts(report: EnergyReport, lang: str = "zh-CN") -> dict[str, bytes]:
    """The report's two charts as PNG images: use per window, use per building."""
    _, t, names, rc = _style(report, lang)
    out = {}
    with plt.rc_context(rc):
        for name, draw, size in (
            ("windows", _by_window, (10, 4.2)),
            ("buildings", _by_building, (5, 3.2)),
        ):
            fig, ax = plt.subplots(figsize=size, layout="constrained")
            draw(ax, report, names, t)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110)
            plt.close(fig)
            out[name] = buf.getvalue()
    return out


def _style(report: EnergyReport, lang: str) -> tuple[str, dict[str, str], dict[str, str], Any]:
    """The language actually used (English without a CJK font), its texts, the buildings'
    names in it, and matplotlib's settings."""
    family = cjk_font()
    if lang == "zh-CN" and family is None:
        log.warning("no CJK font installed (fonts-wqy-zenhei): the report is in English")
        lang = "en"
    t = TEXT[lang]
    names = {b.id: (b.name if lang == "zh-CN" else b.name_en or b.name) for b in report.buildings}
    names["compound"] = t["compound"]
    return lang, t, names, rc_params(family)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return str(v)


def _by_building(ax: Any, report: EnergyReport, names: dict[str, str], t: dict[str, str]) -> None:
    labels, values = [], []
    for b in report.buildings:
        e = b.measures.get("electricity")
        if e:
            labels.append(names[b.id])
            values.append(e.total)
    ax.barh(labels, values, color="#2b7bb9")
    ax.set_title(f"{t['by_building']} ({t['electricity']}, kWh)", fontsize=10)
    ax.tick_params(labelsize=8)


def _by_window(ax: Any, report: EnergyReport, names: dict[str, str], t: dict[str, str]) -> None:
    windows = [datetime.fromisoformat(w) for w in report.period.windows]
    hourly = report.period.every == "hour"
    monthly = len(windows) > 62  # a year: a bar a month, not 365 unreadable ones
    form = "%H:%M" if hourly else ("%Y-%m" if monthly else "%m-%d")
    labels = list(dict.fromkeys(w.strftime(form) for w in windows))
    slot = {lab: i for i, lab in enumerate(labels)}
    bottom = [0.0] * len(labels)
    for b in report.buildings:
        e = b.measures.get("electricity")
        if not e:
            continue
        bars = [0.0] * len(labels)
        for w, v in zip(windows, e.series or [], strict=True):
            bars[slot[w.strftime(form)]] += v
        ax.bar(labels, bars, bottom=bottom, label=names[b.id])
        bottom = [x + y for x, y in zip(bottom, bars, strict=True)]
    title = t["by_month"] if monthly else (t["by_hour"] if hourly else t["by_window"])
    ax.set_title(f"{title} ({t['electricity']}, kWh)")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)


def _quality_lines(report: EnergyReport, t: dict[str, str]) -> list[str]:
    q = report.quality
    lines = [f"{t['flags']}:"]
    lines += [
        f"  {f.meter}  {f.kind}  {f.start[:16]} → {f.to[:16]}  {f.amount}" for f in q.flags
    ] or [f"  {t['none']}"]
    lines.append(f"{t['estimated']}:")
    lines += [f"  {m}: {len(ws)}" for m, ws in q.estimated.items()] or [f"  {t['none']}"]
    lines.append(f"{t['missing']}:")
    lines += [f"  {m}: {len(ws)}" for m, ws in q.missing.items()] or [f"  {t['none']}"]
    lines.append(f"{t['offline']}:")
    lines += [f"  {o.meter} ({o.last_seen or '–'})" for o in q.offline] or [f"  {t['none']}"]
    return lines
