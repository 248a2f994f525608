"""Tables as files people open in Excel: CSV (UTF-8 with BOM) and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

Rows = Sequence[Mapping[str, Any]]


def to_csv(columns: Sequence[str], rows: Rows) -> str:
    """The rows with a header; the BOM makes Excel read the Chinese text right."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow(row)
    return out.getvalue()


def to_xlsx(sheets: Mapping[str, tuple[Sequence[str], Rows]]) -> bytes:
    """A workbook with one sheet per (title: (columns, rows))."""
    wb = Workbook()
    first = True
    for title, (columns, rows) in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = title[:31]
        ws.append(list(columns))
        for row in rows:
            ws.append([_cell(row.get(c)) for c in columns])
        first = False
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return str(value)
    return value
