"""Tables of rows from YAML or CSV files (register maps, BACnet point lists), with row labels.

A YAML table is a mapping with a `points:` list; a CSV table has a header row, and settings
of the whole table as `# key: value` lines above it. Each row comes with where it is
(`points[7]` or `line 14`) so problems can name the row to fix. Empty CSV cells are left out.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import yaml


class TableError(Exception):
    """The file isn't a table at all."""


Row = tuple[str, dict[str, Any]]


def read_table(text: str, *, csv_format: bool) -> tuple[dict[str, Any], list[Row]]:
    """(table settings, rows) of YAML or CSV text."""
    if not csv_format:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise TableError(str(err)) from err
        if not isinstance(data, dict) or not isinstance(data.get("points"), list):
            raise TableError("needs a `points` list")
        header = {k: v for k, v in data.items() if k != "points"}
        return header, [(f"points[{i}]", p) for i, p in enumerate(data["points"])]
    settings: dict[str, Any] = {}
    lines = text.splitlines()
    body_start = 0
    for i, line in enumerate(lines):
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            if value.strip():
                settings[key.strip()] = value.strip()
            body_start = i + 1
        elif line.strip():
            break
    rows: list[Row] = []
    reader = csv.DictReader(io.StringIO("\n".join(lines[body_start:])))
    for n, raw in enumerate(reader):
        cells = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        rows.append((f"line {body_start + 2 + n}", {k: v for k, v in cells.items() if v != ""}))
    return settings, rows
