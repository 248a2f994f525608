"""Answering with a table as JSON, CSV or XLSX (`?format=`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import Response

from hub.services import tables

Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_response(
    data: Any,
    format: Format,
    filename: str,
    sheets: Mapping[str, tuple[Sequence[str], tables.Rows]],
) -> Any:
    """`data` as JSON, or its sheets as a download: CSV takes the first sheet, XLSX all."""
    if format == "csv":
        columns, rows = next(iter(sheets.values()))
        return Response(
            tables.to_csv(columns, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if format == "xlsx":
        return Response(
            tables.to_xlsx(sheets),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    return data
