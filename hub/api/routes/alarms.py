"""Alarms (list, one with its history, acknowledge, assign, shelve) and the rules behind them."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from hub.api.deps import Ctx, RowId, When, allow
from hub.api.public import AlarmDetail, AlarmPublic, DryRunPublic, RulePublic
from hub.api.schemas import In
from hub.errors import NotFound
from hub.identity.roles import OPERATORS, Principal, Role

router = APIRouter(prefix="/api", tags=["alarms"])

Viewer = Annotated[Principal, allow(OPERATORS, Role.DISPLAY)]
Handler = Annotated[Principal, allow(Role.ADMIN, Role.SECURITY, Role.TECHNICIAN)]
Admin = Annotated[Principal, allow(Role.ADMIN)]


class AckBody(In):
    """An acknowledgement."""

    comment: str = Field("", max_length=2000)


class AssignBody(In):
    """Who takes the alarm (null: nobody)."""

    assignee: str | None = Field(None, max_length=64)


class ShelveBody(In):
    """How long to hide the alarm from the active list (0: unshelve)."""

    minutes: float = Field(ge=0, le=7 * 24 * 60)


@router.get("/alarms", response_model=list[AlarmPublic], summary="Alarms, newest first")
def list_alarms(
    ctx: Ctx,
    _: Viewer,
    active: bool | None = None,
    state: Annotated[
        str | None, Query(pattern="^(ACTIVE_UNACK|ACTIVE_ACK|CLEARED_UNACK|CLEARED_ACK)$")
    ] = None,
    severity: Annotated[str | None, Query(pattern="^(critical|major|minor|warning)$")] = None,
    originator: str | None = None,
    type: str | None = None,
    include_shelved: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Filter by active/cleared, state, severity, originator (device, point, subject), type."""
    return ctx.alarms.list(
        active=active,
        state=state,
        severity=severity,
        originator=originator,
        type=type,
        include_shelved=include_shelved,
        limit=limit,
    )


@router.get("/alarms/{alarm_id}", response_model=AlarmDetail, summary="One alarm and its history")
def get_alarm(ctx: Ctx, alarm_id: RowId, _: Viewer) -> dict[str, Any]:
    """The alarm with every raise, repeat, acknowledgement, assignment, shelving and clear."""
    return ctx.alarms.get(alarm_id)


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmPublic, summary="Acknowledge an alarm")
def ack_alarm(ctx: Ctx, alarm_id: RowId, body: AckBody, who: Handler) -> dict[str, Any]:
    """409 if it is already acknowledged."""
    return ctx.alarms.acknowledge(alarm_id, who.name, body.comment)


class CommentBody(In):
    """A note for the alarm's history."""

    comment: str = Field(min_length=1, max_length=1000)


@router.post(
    "/alarms/{alarm_id}/comment", response_model=AlarmPublic, summary="Comment on an alarm"
)
def comment_alarm(ctx: Ctx, alarm_id: RowId, body: CommentBody, who: Handler) -> dict[str, Any]:
    """Recorded in the alarm's history and the audit log; the alarm's state is unchanged."""
    return ctx.alarms.comment(alarm_id, who.name, body.comment)


@router.post("/alarms/{alarm_id}/assign", response_model=AlarmPublic, summary="Assign an alarm")
def assign_alarm(ctx: Ctx, alarm_id: RowId, body: AssignBody, who: Handler) -> dict[str, Any]:
    """Give the alarm to a user (by username)."""
    if body.assignee is not None:
        ctx.identity.get_user(body.assignee)  # 404 for an unknown user
    return ctx.alarms.assign(alarm_id, who.name, body.assignee)


@router.post(
    "/alarms/{alarm_id}/shelve", response_model=AlarmPublic, summary="Shelve an alarm for a while"
)
def shelve_alarm(ctx: Ctx, alarm_id: RowId, body: ShelveBody, who: Handler) -> dict[str, Any]:
    """Hidden from `include_shelved=false` lists until then."""
    return ctx.alarms.shelve(alarm_id, who.name, body.minutes)


@router.get("/rules", response_model=list[RulePublic], summary="The rules and their state")
def list_rules(ctx: Ctx, _: Annotated[Principal, allow(OPERATORS)]) -> list[dict[str, Any]]:
    """Each rule's configuration, whether it disabled itself (and why), and its state."""
    return ctx.rules.rules()


class DryRunBody(In):
    """Rules to try (YAML: a list, or `rules:` and a list) and the recorded stretch."""

    model_config = ConfigDict(str_strip_whitespace=False)  # YAML: its line numbers count

    rules: str = Field(max_length=200_000)
    start: When
    end: When
    tick_s: float = Field(10.0, ge=1, le=3600)


@router.post(
    "/rules/dry-run",
    response_model=DryRunPublic,
    summary="Try rules on a recorded stretch of events",
)
async def dry_run(
    ctx: Ctx, body: DryRunBody, _: Annotated[Principal, allow(Role.ADMIN, Role.SECURITY)]
) -> dict[str, Any]:
    """Replays recorded readings and positions through the rules on a virtual clock, with an
    alarm book in memory: what would have been raised and cleared. 422 names every problem of
    the rules (unknown fences, points, routes; invalid schedules) with its line."""
    return await ctx.rules.dry_run(body.rules, body.start, body.end, body.tick_s)


@router.post("/rules/{rule_id}/enable", summary="Re-enable a rule that disabled itself")
async def enable_rule(ctx: Ctx, rule_id: str, _: Admin) -> dict[str, Any]:
    """Its state starts afresh."""
    try:
        await ctx.rules.enable(rule_id)
    except KeyError:
        raise NotFound(f"no rule {rule_id!r}") from None
    rules = await asyncio.to_thread(ctx.rules.rules)
    return next(r for r in rules if r["id"] == rule_id)
