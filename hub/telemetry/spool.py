"""A durable spool of line-protocol batches waiting to be written to InfluxDB.

One SQLite file (WAL, synchronous=FULL): once `append` returns, the batch survives a crash,
SIGKILL included. Batches are shipped oldest first and deleted only after the server took
them. Payloads are stored gzip-compressed, which is also how they are POSTed.

Size policy: `usage()` over `alarm_at` (default 80 %) is reported as degraded health and a
log warning. At 100 % the policy decides: `block` (default) makes `append` refuse so the
telemetry consumer waits, which backs the pipeline up into the adapters and their sources
(an MQTT broker keeps the messages): nothing is lost, but ingest stalls until InfluxDB is
back. `drop_oldest` deletes the oldest batches to make room, counting every dropped point:
ingest goes on and the oldest history is lost.
"""

from __future__ import annotations

import gzip
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

WhenFull = Literal["block", "drop_oldest"]


class SpoolFull(Exception):
    """The spool is at its size limit and the policy is to block."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """A batch as stored: gzip'd line protocol."""

    id: int
    created: float  # unix seconds
    points: int
    payload: bytes  # gzip

    def lines(self) -> list[str]:
        """The batch's lines."""
        return gzip.decompress(self.payload).decode("utf-8").split("\n")


def pack(lines: list[str]) -> bytes:
    """Lines to a gzip'd payload (level 1: fast, still ~8x smaller for line protocol)."""
    return gzip.compress("\n".join(lines).encode("utf-8"), compresslevel=1)


class Spool:
    """Durable FIFO of batches; thread-safe (one lock, one connection)."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = 1 << 30,
        when_full: WhenFull = "block",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.when_full = when_full
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "created REAL NOT NULL, points INTEGER NOT NULL, bytes INTEGER NOT NULL, "
            "payload BLOB NOT NULL)"
        )
        row = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(SUM(bytes), 0) FROM batches"
        ).fetchone()
        self.batches, self.points, self.bytes = int(row[0]), int(row[1]), int(row[2])
        self.dropped_points = 0  # by the drop_oldest policy

    def append(self, payload: bytes, points: int) -> None:
        """Store a batch durably; SpoolFull when full and the policy is to block."""
        with self._lock:
            if self.bytes + len(payload) > self.max_bytes:
                if self.when_full == "block" and self.batches > 0:
                    raise SpoolFull(
                        f"telemetry spool full ({self.bytes} of {self.max_bytes} bytes)"
                    )
                self._drop_oldest_locked(self.bytes + len(payload) - self.max_bytes)
            self._conn.execute(
                "INSERT INTO batches (created, points, bytes, payload) VALUES (?, ?, ?, ?)",
                (time.time(), points, len(payload), payload),
            )
            self.batches += 1
            self.points += points
            self.bytes += len(payload)

    def _drop_oldest_locked(self, need: int) -> None:
        freed = 0
        for bid, pts, size in self._conn.execute(
            "SELECT id, points, bytes FROM batches ORDER BY id"
        ).fetchall():
            if freed >= need:
                break
            self._conn.execute("DELETE FROM batches WHERE id = ?", (bid,))
            freed += size
            self.batches -= 1
            self.points -= pts
            self.bytes -= size
            self.dropped_points += pts

    def oldest(self) -> SpooledBatch | None:
        """The batch to ship next."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id, created, points, payload FROM batches ORDER BY id LIMIT 1"
            ).fetchone()
        return SpooledBatch(*row) if row else None

    def delete(self, batch: SpooledBatch) -> None:
        """Forget a batch the server took (or that was dropped as bad data)."""
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM batches WHERE id = ? RETURNING points, bytes", (batch.id,)
            )
            row = cur.fetchone()
            if row:
                self.batches -= 1
                self.points -= int(row[0])
                self.bytes -= int(row[1])

    def replace(self, batch: SpooledBatch, parts: list[list[str]]) -> None:
        """Split a batch in place (keeping its position at the head of the queue)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
                # Negative ids sort before every appended batch: the parts stay at the head.
                low = self._conn.execute("SELECT MIN(id) FROM batches").fetchone()[0]
                next_id = min(int(low or 0), batch.id) - len(parts)
                total_bytes = 0
                for i, lines in enumerate(parts):
                    payload = pack(lines)
                    total_bytes += len(payload)
                    self._conn.execute(
                        "INSERT INTO batches (id, created, points, bytes, payload) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (next_id + i, batch.created, len(lines), len(payload), payload),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            old_bytes = len(batch.payload)
            self.batches += len(parts) - 1
            self.bytes += total_bytes - old_bytes

    def oldest_age(self, now: float | None = None) -> float:
        """Seconds the oldest waiting batch has waited (0 when empty)."""
        with self._lock:
            row = self._conn.execute("SELECT MIN(created) FROM batches").fetchone()
        return max(0.0, (now or time.time()) - row[0]) if row and row[0] else 0.0

    def usage(self) -> float:
        """Fraction of the size limit in use."""
        return self.bytes / self.max_bytes if self.max_bytes else 0.0

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()
