"""Cards and permits."""

from __future__ import annotations

from typing import Any

from hub.api.public.base import Out, Timestamp


class PermitKindPublic(Out):
    """A kind of card or permit: its chain (`unit` and back-office roles), validity, the
    documents an application carries, whether it asks a plate or doors, the issuing window."""

    id: str
    name: str
    name_en: str | None
    chain: list[str]
    valid_days: int
    documents: list[str]
    plate: bool
    doors: bool
    issuer: str


class PermitPublic(Out):
    """An application, or the card or permit it became; opened alone, with its approvals and
    history."""

    id: int
    kind: str
    kind_name: str
    holder: str
    unit: str | None
    status: str
    step: int
    steps: int
    waiting_for: list[str]
    plate: str | None
    doors: list[str]
    documents: list[str]
    note: str
    number: str | None
    renews: int | None
    reason: str | None
    applied_at: Timestamp
    issued_at: Timestamp | None
    collected_at: Timestamp | None
    valid_from: Timestamp | None
    valid_until: Timestamp | None
    ended_at: Timestamp | None
    approvals: list[dict[str, Any]] | None = None
    log: list[dict[str, Any]] | None = None


class PermitFigureRow(Out):
    """One month (0: the year) and kind ("": all of them)."""

    month: int
    kind: str
    applied: int
    issued: int
    refused: int
    days_median: float | None
    days_mean: float | None


class PermitFigures(Out):
    """A year's figures."""

    year: int
    kinds: dict[str, str]
    rows: list[PermitFigureRow]


class CredentialCode(Out):
    """One code of a phone credential and the minute it is good for."""

    token: str
    valid_from: Timestamp
    valid_until: Timestamp


class Credential(Out):
    """A person's phone credential: the codes for the next minutes (shown one a minute, with
    no network needed meanwhile) and the name they show."""

    name: str
    codes: list[CredentialCode]
