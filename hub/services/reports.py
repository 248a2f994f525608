"""Stored reports: the files a scheduled report leaves in the data folder, `<prefix>-<kind>-
<label>.pdf` beside its `.json` (energy and patrol reports keep theirs side by side)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson


class StoredReports:
    """One kind of report's files in a folder."""

    def __init__(self, folder: Path, prefix: str = "energy") -> None:
        self.folder = folder
        self.prefix = prefix
        self._name = re.compile(
            rf"^{re.escape(prefix)}-(day|week|month|year)-[0-9W-]{{4,10}}\.(pdf|json|xlsx)$"
        )

    def list(self) -> list[dict[str, Any]]:
        """Every stored report, newest first."""
        if not self.folder.exists():
            return []
        out = []
        files = self.folder.glob(f"{self.prefix}-*.pdf")
        for pdf in sorted(files, key=lambda p: p.stat().st_mtime):
            kind, label = pdf.stem.split("-", 2)[1:]
            out.append(
                {
                    "name": pdf.name,
                    "kind": kind,
                    "label": label,
                    "json": pdf.with_suffix(".json").name,
                    "bytes": pdf.stat().st_size,
                    "created_at": datetime.fromtimestamp(pdf.stat().st_mtime, UTC).isoformat(),
                }
            )
        return out[::-1]

    def path(self, name: str) -> Path | None:
        """A stored file by name (None for names that aren't this kind's report files)."""
        if not self._name.match(name):
            return None
        p = self.folder / name
        return p if p.exists() else None

    def has(self, kind: str, label: str) -> bool:
        """Whether this period's report is stored."""
        return (self.folder / f"{self.prefix}-{kind}-{label}.pdf").exists()

    def save(self, kind: str, label: str, data: dict[str, Any], files: dict[str, bytes]) -> Path:
        """Store a period's report: its JSON and its files by suffix (each written to a
        temporary name first: never half a file; the PDF last, as it marks the report made)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"{self.prefix}-{kind}-{label}"
        ordered = [(".json", orjson.dumps(data))]
        ordered += sorted(files.items(), key=lambda kv: kv[0] == ".pdf")
        for suffix, blob in ordered:
            tmp = self.folder / f".{stem}{suffix}.tmp"
            tmp.write_bytes(blob)
            tmp.replace(self.folder / f"{stem}{suffix}")
        return self.folder / f"{stem}.pdf"
