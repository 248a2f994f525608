"""Answering with a table as JSON, CSV or XLSX (`?format=`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import Response
from fastapi.responses import FileResponse

from hub.errors import NotFound
from hub.services import tables
from hub.services.reports import StoredReports

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


MEDIA = {".pdf": "application/pdf", ".json": "application/json", ".xlsx": XLSX, ".csv": "text/csv"}


def stored_file(stored: StoredReports, name: str) -> FileResponse:
    """A stored report's file by name, or 404 (names that are not that kind's report files
    included)."""
    path = stored.path(name)
    if path is None:
        raise NotFound(f"no stored report {name!r}")
    return FileResponse(path, media_type=MEDIA[path.suffix], filename=name)
