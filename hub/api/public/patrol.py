"""Patrols: a guard's tours now, scans of checkpoint codes, a checkpoint's code on its
display, the patrol report, and the message catalogue the pages render alarms with."""

from __future__ import annotations

from typing import Any

from hub.api.public.base import Out, Timestamp


class TourCheckpoint(Out):
    """A checkpoint of the open tour: when it is due, whether (when, by whom, how) it was
    visited, missed or late."""

    id: str
    name: str
    name_en: str
    deadline: Timestamp | None
    visited_at: Timestamp | None
    by: str | None
    proof: list[str]
    missed: bool
    late: bool


class GuardRoute(Out):
    """One of the guard's routes and its open tour (`open` false: no tour now)."""

    route: str
    name: str
    name_en: str
    open: bool
    start: Timestamp | None
    upcoming: Timestamp | None  # when the next tour starts
    checkpoints: list[TourCheckpoint]
    done: int
    total: int
    next: TourCheckpoint | None


class GuardTours(Out):
    """What the guard's phone shows."""

    guard: dict[str, str] | None  # None: the account is not a guard's
    routes: list[GuardRoute]


class ScanResult(Out):
    """A scanned code judged: accepted (the visit follows from the rule's proof) or refused
    with the reason (`malformed`, `unknown_checkpoint`, `wrong`, `expired`, `replayed`)."""

    accepted: bool
    checkpoint: str
    name: str
    reason: str = ""


class CheckpointCode(Out):
    """What a checkpoint's display shows: the code, the QR of its scan link, until when."""

    checkpoint: str
    name: str
    code: str
    payload: str
    qr: str
    valid_until: Timestamp


class PatrolReportPublic(Out):
    """A period's patrol report: totals and figures per guard, route and shift (tours,
    unobserved, due, on_time, late, missed, out_of_order, refused, refused_scans,
    compliance in percent), every tour with its checkpoints' results and evidence, and the
    names of the ids it uses."""

    site: str
    lang: str
    period: dict[str, str]
    generated_at: Timestamp
    total: dict[str, Any]
    by_guard: dict[str, dict[str, Any]]
    by_route: dict[str, dict[str, Any]]
    by_shift: dict[str, dict[str, Any]]
    tours: list[dict[str, Any]]
    names: dict[str, dict[str, str]]


class Catalogue(Out):
    """The messages by language and key (`{arg}` placeholders; `*_at` args are times,
    `*_when` dates and times, `*_id` the site's ids, `*_word` words)."""

    messages: dict[str, dict[str, str]]
    timezone: str
    names: dict[str, dict[str, str]]  # per language: the site's ids -> names
    words: dict[str, dict[str, str]]  # per language: the values `*_word` args take
