"""A patrol report as sheets (XLSX) and as a PDF (tables drawn by matplotlib), in Chinese or
English."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from hub.services.patrol.report import Figures, PatrolReport, guards_sorted
from hub.services.pdf import cjk_font, rc_params
from hub.services.tables import Rows

log = logging.getLogger(__name__)

TEXT: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "title": "巡更报告",
        "period": "统计期",
        "generated": "生成于",
        "total": "合计",
        "guard": "保安",
        "route": "路线",
        "shift": "班次",
        "tours": "巡更轮次",
        "unobserved": "未监测轮次",
        "due": "应巡点次",
        "on_time": "按时",
        "late": "迟到",
        "missed": "漏巡",
        "out_of_order": "顺序错误",
        "refused": "不予计入",
        "refused_scans": "无效扫码",
        "compliance": "合规率%",
        "start": "开始",
        "checkpoint": "巡更点",
        "state": "结果",
        "at": "时间",
        "by": "巡更人",
        "evidence": "凭据",
        "visits": "巡更明细",
        "none": "无",
        "states": {"on_time": "按时", "late": "迟到", "missed": "漏巡", "unobserved": "未监测"},
    },
    "en": {
        "title": "Patrol report",
        "period": "Period",
        "generated": "Generated",
        "total": "Total",
        "guard": "Guard",
        "route": "Route",
        "shift": "Shift",
        "tours": "Tours",
        "unobserved": "Unobserved",
        "due": "Due",
        "on_time": "On time",
        "late": "Late",
        "missed": "Missed",
        "out_of_order": "Out of order",
        "refused": "Refused",
        "refused_scans": "Refused scans",
        "compliance": "Compliance %",
        "start": "Start",
        "checkpoint": "Checkpoint",
        "state": "Result",
        "at": "Time",
        "by": "By",
        "evidence": "Evidence",
        "visits": "Visits",
        "none": "none",
        "states": {
            "on_time": "on time",
            "late": "late",
            "missed": "missed",
            "unobserved": "unobserved",
        },
    },
}

FIGURES = (
    "tours",
    "unobserved",
    "due",
    "on_time",
    "late",
    "missed",
    "out_of_order",
    "refused",
    "refused_scans",
    "compliance",
)


def _row(label: str, f: Figures) -> dict[str, Any]:
    return {"": label, **{k: v for k, v in f.as_json().items() if k in FIGURES}}


def groups(report: PatrolReport) -> dict[str, list[dict[str, Any]]]:
    """The summary tables: per guard, per route, per shift, each with its total."""
    n = report.names
    t = TEXT[report.lang]
    return {
        "guard": [_row(n["guards"].get(g, g), report.by_guard[g]) for g in guards_sorted(report)],
        "route": [_row(n["routes"].get(r, r), f) for r, f in sorted(report.by_route.items())],
        "shift": [_row(n["shifts"].get(s, s or "–"), f) for s, f in sorted(report.by_shift.items())]
        + [_row(str(t["total"]), report.total)],
    }


def visit_rows(report: PatrolReport) -> list[dict[str, Any]]:
    """Every checkpoint of every tour: its result, when, by whom, and how it was proven."""
    n = report.names
    t = TEXT[report.lang]
    out = []
    for tour in report.tours:
        for cp in tour["checkpoints"]:
            out.append(
                {
                    "route": n["routes"].get(tour["route"], tour["route"]),
                    "start": tour["start"][:16].replace("T", " "),
                    "shift": n["shifts"].get(tour["shift"], tour["shift"]),
                    "checkpoint": n["checkpoints"].get(cp["checkpoint"], cp["checkpoint"]),
                    "state": t["states"][cp["state"]],
                    "at": (cp["at"] or "")[11:19],
                    "by": n["guards"].get(cp["by"], cp["by"]) if cp["by"] else "",
                    "evidence": "; ".join(cp["evidence"]),
                }
            )
    return out


def sheets(report: PatrolReport) -> dict[str, tuple[Sequence[str], Rows]]:
    """The XLSX workbook: the three summaries and the visits, headed in the report's language."""
    t = TEXT[report.lang]
    head = ["", *FIGURES]
    out: dict[str, tuple[Sequence[str], Rows]] = {}
    for key, rows in groups(report).items():
        out[str(t[key])] = (head, rows)
    cols = ["route", "start", "shift", "checkpoint", "state", "at", "by", "evidence"]
    out[str(t["visits"])] = (cols, visit_rows(report))
    return {
        title: ([str(t.get(c, c)) or "" for c in columns], [_relabel(r, t) for r in rows])
        for title, (columns, rows) in out.items()
    }


def _relabel(row: Any, t: dict[str, Any]) -> dict[str, Any]:
    return {str(t.get(k, k)) or "": v for k, v in row.items()}


def _table(ax: Any, columns: list[str], body: list[list[str]], size: float = 8) -> None:
    ax.axis("off")
    if not body:
        return
    table = ax.table(cellText=body, colLabels=columns, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    table.scale(1, 1.3)


def _fmt(v: Any) -> str:
    return "–" if v is None else str(v)


def pdf(report: PatrolReport) -> bytes:
    """The report as a PDF: the summaries on the first page, the visits after it (A4
    landscape). Chinese needs a CJK font; without one the labels are English."""
    family = cjk_font()
    lang = report.lang if family or report.lang == "en" else "en"
    if lang != report.lang:
        log.warning("no CJK font installed (fonts-wqy-zenhei): the report's labels are English")
    t = TEXT[lang]
    p = report.period
    buf = io.BytesIO()
    with plt.rc_context(rc_params(family)), PdfPages(buf) as doc:  # type: ignore[arg-type]
        fig = plt.figure(figsize=(11.69, 8.27))
        fig.suptitle(f"{report.site} · {t['title']} · {p.label}", fontsize=15)
        fig.text(0.04, 0.93, f"{t['period']}: {p.first} – {p.last}", fontsize=9)
        columns = [str(t[k]) for k in FIGURES]
        y = 0.9
        for key, rows in groups(report).items():
            height = 0.04 * (len(rows) + 1)
            fig.text(0.04, y - 0.005, str(t[key]), fontsize=10, weight="bold")
            ax = fig.add_axes((0.03, y - height - 0.02, 0.94, height))
            body = [[r[""], *(_fmt(r[k]) for k in FIGURES)] for r in rows]
            _table(ax, [str(t[key]), *columns], body)
            y -= height + 0.06
        fig.text(0.04, 0.02, f"{t['generated']}: {report.generated_at}", fontsize=7)
        doc.savefig(fig)
        plt.close(fig)
        visits = visit_rows(report)
        cols = ["route", "start", "checkpoint", "state", "at", "by", "evidence"]
        for i in range(0, max(len(visits), 1), 30):
            fig = plt.figure(figsize=(11.69, 8.27))
            fig.suptitle(f"{t['visits']} ({i + 1}–{min(i + 30, len(visits))})", fontsize=12)
            ax = fig.add_axes((0.02, 0.03, 0.96, 0.9))
            body = [[str(v[c]) for c in cols] for v in visits[i : i + 30]]
            _table(ax, [str(t[c]) for c in cols], body, size=7)
            doc.savefig(fig)
            plt.close(fig)
    return buf.getvalue()
