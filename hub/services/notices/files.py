"""A notice's attachments: uploaded one by one before the notice is published (staged, each
checked to be what its name says), moved to the notice when it is, served to its readers, and
deleted with it. Documents and pictures only: PDF, Word, Excel, PowerPoint (OOXML), JPEG,
PNG and plain text, 10 MB each, five a notice."""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from hub.errors import Invalid, NotFound

MAX_SIZE = 10 * 1024 * 1024
MAX_FILES = 5
# extension: (content type, a check of the first bytes)
KINDS: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".txt": ("text/plain; charset=utf-8", None),
}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass(frozen=True)
class Attachment:
    """A file as a notice lists it."""

    id: str
    name: str
    type: str
    size: int

    def as_json(self, file: str) -> dict[str, Any]:
        """As stored with the notice."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "size": self.size,
            "file": file,
        }


def clean_name(name: str) -> str:
    """The file's name without folders or characters file systems refuse, at most 100."""
    base = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        return base[:100] or "file"
    return f"{stem[: 99 - len(ext)]}.{ext}"


def check(name: str, data: bytes) -> Attachment:
    """What the upload is, or Invalid: a kind not taken, too large, or not what its name says."""
    name = clean_name(name)
    ext = Path(name).suffix.lower()
    if ext not in KINDS:
        allowed = ", ".join(sorted(k.lstrip(".") for k in KINDS))
        raise Invalid(
            f"{name}: not a file notices take ({allowed})",
            field="file",
            key="notice.file_kind",
            name=name,
        )
    if len(data) > MAX_SIZE:
        raise Invalid(
            f"{name}: larger than {MAX_SIZE // 1024 // 1024} MB",
            field="file",
            key="notice.file_size",
            name=name,
            mb=MAX_SIZE // 1024 // 1024,
        )
    if not data:
        raise Invalid(f"{name}: empty", field="file", key="notice.file_bad", name=name)
    kind, magic = KINDS[ext]
    if not _is(ext, magic, data):
        raise Invalid(
            f"{name}: not a {ext.lstrip('.')} file", field="file", key="notice.file_bad", name=name
        )
    return Attachment(uuid.uuid4().hex, name, kind, len(data))


def _is(ext: str, magic: bytes | None, data: bytes) -> bool:
    if magic is not None and not data.startswith(magic):
        return False
    if ext == ".txt":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in data
    if magic == b"PK":  # an Office file is a zip holding [Content_Types].xml
        try:
            with zipfile.ZipFile(BytesIO(data)) as z:
                return "[Content_Types].xml" in z.namelist()
        except zipfile.BadZipFile:
            return False
    return True


class Files:
    """Where attachments are kept: `staging/` until their notice is published, then by
    notice."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.staging = folder / "staging"

    def stage(self, author: str, name: str, data: bytes) -> Attachment:
        """Keep an upload for the author's next notice."""
        a = check(name, data)
        self.staging.mkdir(parents=True, exist_ok=True)
        (self.staging / f"{a.id}.bin").write_bytes(data)
        meta = {"author": author, "name": a.name, "type": a.type, "size": a.size}
        (self.staging / f"{a.id}.json").write_text(json.dumps(meta, ensure_ascii=False))
        return a

    def staged(self, author: str, ids: list[str]) -> list[Attachment]:
        """The author's staged uploads by id; Invalid for one that is not theirs or gone."""
        if len(ids) > MAX_FILES:
            raise Invalid(
                f"at most {MAX_FILES} attachments",
                field="attachments",
                key="notice.files",
                n=MAX_FILES,
            )
        out = []
        for i in ids:
            meta_path = self.staging / f"{i}.json"
            ok = re.fullmatch(r"[0-9a-f]{32}", i) is not None and meta_path.exists()
            meta = json.loads(meta_path.read_text()) if ok else None
            if meta is None or meta["author"] != author:
                raise Invalid(
                    "an attachment was not uploaded, or has expired: upload it again",
                    field="attachments",
                    key="notice.file_gone",
                )
            out.append(Attachment(i, meta["name"], meta["type"], meta["size"]))
        return out

    def keep(self, notice_id: int, a: Attachment) -> str:
        """Move a staged upload to its notice; the file's name."""
        name = f"{notice_id}-{a.id}{Path(a.name).suffix.lower()}"
        (self.staging / f"{a.id}.bin").replace(self.folder / name)
        (self.staging / f"{a.id}.json").unlink(missing_ok=True)
        return name

    def path(self, file: str) -> Path:
        """Where a kept attachment is."""
        p = self.folder / file
        if not p.is_file():
            raise NotFound("the file is gone", key="not_found", what=file)
        return p

    def delete(self, files: list[str]) -> None:
        """Delete kept attachments."""
        for f in files:
            (self.folder / f).unlink(missing_ok=True)

    def sweep_staging(self, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
        """Delete uploads never published (older than `keep`); how many."""
        if not self.staging.exists():
            return 0
        gone = 0
        cutoff = (now - keep).timestamp()
        for p in self.staging.iterdir():
            if p.stat().st_mtime < cutoff:
                p.unlink(missing_ok=True)
                gone += p.suffix == ".bin"
        return gone
