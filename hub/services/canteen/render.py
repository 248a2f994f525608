"""The production sheet as rows (CSV / XLSX) and as a PDF to print (A4, Chinese)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from hub.services.pdf import cjk_font, rc_params

COLUMNS = ["meal", "item", "category", "ordered", "portions", "make"]
LABELS = ["餐次 Meal", "菜品 Dish", "类别", "已订 Ordered", "计划 Planned", "制作 Make"]


def production_rows(sheet: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per meal and dish."""
    rows = [
        {
            "meal": m["name"],
            "item": i["name"],
            "category": i["category"],
            "ordered": i["ordered"],
            "portions": i["portions"],
            "make": i["make"],
        }
        for m in sheet["meals"]
        for i in m["items"]
    ]
    return COLUMNS, rows


def production_pdf(sheet: dict[str, Any], site: str) -> bytes:
    """The sheet on A4 pages, 28 dishes a page, each meal's orders counted."""
    _, rows = production_rows(sheet)
    family = cjk_font()
    buf = io.BytesIO()
    with plt.rc_context(rc_params(family)), PdfPages(buf) as doc:  # type: ignore[arg-type]
        for start in range(0, max(len(rows), 1), 28):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.suptitle(f"{site} · {sheet['name']} · 生产单 {sheet['day']}", fontsize=14)
            orders = " · ".join(f"{m['name']} {m['orders']} 单" for m in sheet["meals"])
            fig.text(0.06, 0.93, orders, fontsize=9)
            ax = fig.add_axes((0.05, 0.05, 0.9, 0.85))
            ax.axis("off")
            body = [
                [str(r[c]) if r[c] is not None else "–" for c in COLUMNS]
                for r in rows[start : start + 28]
            ]
            if body:
                table = ax.table(
                    cellText=body, colLabels=LABELS, loc="upper center", cellLoc="center"
                )
                table.auto_set_font_size(False)
                table.set_fontsize(9)
                table.scale(1, 1.5)
            doc.savefig(fig)
            plt.close(fig)
    return buf.getvalue()
