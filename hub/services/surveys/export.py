"""A questionnaire's answers as a spreadsheet (CSV for anything, XLSX for Excel and WPS): one
row an answer, one column a question (a matrix: one a row). A named questionnaire's rows say
whose they are; an anonymous one's hold nothing of who answered — a random id and the day."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from hub.services.surveys.questions import Question, cell, columns
from hub.storage.models import Survey, SurveyResponse


def table(
    v: Survey, questions: Sequence[Question], responses: Sequence[SurveyResponse]
) -> list[list[str | int | None]]:
    """The header and a row per answer."""
    titles = {q.id: q.title for q in questions}
    cols = columns(questions)
    head: list[str | int | None] = ["编号 id", "日期 day"]
    if not v.anonymous:
        head += ["填写人 person", "单位 unit"]
    head += [f"{titles[q]} · {r}" if r else titles[q] for q, r in cols]
    rows = [head]
    for n, resp in enumerate(responses, 1):
        line: list[str | int | None] = [n, resp.day.isoformat()]
        if not v.anonymous:
            line += [resp.username, resp.unit]
        line += [cell(resp.answers, q, r) for q, r in cols]
        rows.append(line)
    return rows


def as_csv(rows: Sequence[Sequence[str | int | None]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens it as such)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if c is None else _safe(c) for c in row])
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(title: str, rows: Sequence[Sequence[str | int | None]]) -> bytes:
    """One sheet, its header bold and frozen."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "answers"
    for row in rows:
        sheet.append([_safe(c) if isinstance(c, str) else c for c in row])
    for c in sheet[1]:
        c.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(value: str | int) -> str | int:
    """A text a spreadsheet would run as a formula (=, +, -, @ first) kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
