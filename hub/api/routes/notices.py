"""Notices (通知公告): everyone reads the notices meant for them and acknowledges those that
ask for it; administrators and managers publish them, see who has not read them and remind
those once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import Field

from hub.api.deps import Ctx, RowId, When, allow
from hub.api.public.notices import (
    NoticeAttachment,
    NoticeAudiences,
    NoticeOnDisplay,
    NoticePublic,
    NoticeReceipts,
)
from hub.api.schemas import In
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.notices import PUBLISHERS, Audience
from hub.services.notices.files import MAX_SIZE

router = APIRouter(prefix="/api/notices", tags=["notices"])

Person = Annotated[Principal, allow(PEOPLE)]
Publisher = Annotated[Principal, allow(PUBLISHERS)]
Shown = Annotated[Principal, allow(PEOPLE, Role.DISPLAY)]  # the wall, the door displays


class NoticeBody(In):
    """A notice: its title, its text (HTML: paragraphs, emphasis, lists and links are kept,
    anything else is dropped), who it is for (everyone, or work units and roles), when it
    shows and until when, pinned, to be acknowledged."""

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=200_000)
    everyone: bool = False
    units: list[str] = Field(default_factory=list, max_length=100)
    roles: list[str] = Field(default_factory=list, max_length=20)
    buildings: list[str] = Field(default_factory=list, max_length=50)
    publish_at: When | None = None
    expires_at: When | None = None
    pinned: bool = False
    must_ack: bool = False
    display: bool = False  # on the wall and the rooms' door displays too
    attachments: list[str] = Field(default_factory=list, max_length=5)  # uploaded files' ids


@router.get("", response_model=list[NoticePublic], summary="Notices for me")
def mine(ctx: Ctx, who: Person) -> list[dict[str, Any]]:
    """The notices showing for the signed-in person: pinned first, then newest."""
    return ctx.notices.mine(who)


@router.post("", response_model=NoticePublic, status_code=201, summary="Publish a notice")
def publish(ctx: Ctx, body: NoticeBody, who: Publisher) -> dict[str, Any]:
    """Published now, or at `publish_at`; its recipients hear of it in their inbox."""
    audience = Audience(body.everyone, tuple(body.units), tuple(body.roles), tuple(body.buildings))
    return ctx.notices.publish(
        who,
        title=body.title,
        body=body.body,
        audience=audience,
        publish_at=body.publish_at,
        expires_at=body.expires_at,
        pinned=body.pinned,
        must_ack=body.must_ack,
        display=body.display,
        attachments=body.attachments,
    )


@router.post(
    "/attachments", response_model=NoticeAttachment, status_code=201, summary="Upload a file"
)
async def upload(ctx: Ctx, file: UploadFile, who: Publisher) -> dict[str, Any]:
    """A file for the next notice (PDF, Word, Excel, PowerPoint, JPEG, PNG or text; 10 MB):
    name its id in the notice's `attachments`. Kept a day unless published with one."""
    data = await file.read(MAX_SIZE + 1)
    return await run_in_threadpool(ctx.notices.stage, who, file.filename or "file", data)


@router.get("/display", response_model=list[NoticeOnDisplay], summary="On the displays")
def on_display(ctx: Ctx, _: Shown) -> list[dict[str, Any]]:
    """The notices showing now that their authors put on the wall and the door displays."""
    return ctx.notices.displayed()


@router.get("/audiences", response_model=NoticeAudiences, summary="Whom a notice can be for")
def audiences(ctx: Ctx, _: Publisher) -> dict[str, list[str]]:
    """The site's work units, buildings and the people's roles (names: `/api/i18n`)."""
    return {
        "units": list(ctx.notices.units),
        "roles": sorted(r.value for r in PEOPLE),
        "buildings": [b.id for b in ctx.site.buildings],
    }


@router.get("/authored", response_model=list[NoticePublic], summary="Notices I published")
def authored(ctx: Ctx, who: Publisher) -> list[dict[str, Any]]:
    """With how many have read and acknowledged each (an administrator: everyone's)."""
    return ctx.notices.authored(who)


@router.get("/{notice_id}", response_model=NoticePublic, summary="Read a notice")
def read(ctx: Ctx, notice_id: RowId, who: Person) -> dict[str, Any]:
    """The whole text; the notice counts as read."""
    return ctx.notices.read(who, notice_id)


@router.post("/{notice_id}/acknowledge", response_model=NoticePublic, summary="Acknowledge")
def acknowledge(ctx: Ctx, notice_id: RowId, who: Person) -> dict[str, Any]:
    """Confirm having read a notice that asks for it."""
    return ctx.notices.acknowledge(who, notice_id)


@router.get("/{notice_id}/receipts", response_model=NoticeReceipts, summary="Who has read it")
def receipts(ctx: Ctx, notice_id: RowId, who: Publisher) -> dict[str, Any]:
    """The author's (or an administrator's) view: counts, and who has still to read or
    acknowledge it."""
    return ctx.notices.receipts(who, notice_id)


@router.post("/{notice_id}/remind", response_model=NoticePublic, summary="Remind, once")
def remind(ctx: Ctx, notice_id: RowId, who: Publisher) -> dict[str, Any]:
    """Tell those who have not read (or acknowledged) it again: once per notice (409 after)."""
    return ctx.notices.remind(who, notice_id)


@router.post("/{notice_id}/withdraw", response_model=NoticePublic, summary="Withdraw")
def withdraw(ctx: Ctx, notice_id: RowId, who: Publisher) -> dict[str, Any]:
    """It shows no more."""
    return ctx.notices.withdraw(who, notice_id)


@router.get("/{notice_id}/attachments/{file_id}", summary="An attachment")
def attachment(
    ctx: Ctx,
    notice_id: RowId,
    file_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")],
    who: Person,
) -> FileResponse:
    """For the notice's readers and its author; downloaded, never shown in the page."""
    path, name, kind = ctx.notices.attachment(who, notice_id, file_id)
    return FileResponse(path, media_type=kind, filename=name, content_disposition_type="attachment")
