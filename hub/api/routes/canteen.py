"""The canteen: menus, orders, the counter, the OpenMensa feed (docs/canteen.md); what the
kitchen learns is in `canteen_reports`."""

from __future__ import annotations

import base64
import binascii
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import Field

from hub.api.deps import PUBLIC, Ctx, Day, RowId, allow, client_of
from hub.api.public import (
    CanteenPublic,
    MenuItemPublic,
    OrderPublic,
)
from hub.api.qr import qr_data_url
from hub.api.schemas import In
from hub.errors import Conflict, Invalid
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.canteen import ItemIn, openmensa
from hub.services.canteen.orders import Basket
from hub.services.gate.passes import PassError

router = APIRouter(prefix="/api", tags=["canteen"])

Person = Annotated[Principal, allow(PEOPLE)]
Cook = Annotated[Principal, allow(Role.CANTEEN, Role.ADMIN)]
Counter = Annotated[Principal, allow(Role.CANTEEN, Role.ADMIN)]  # staff or a terminal's key


def _monday(week: str | None, today: date) -> date:
    if not week:
        return today - timedelta(days=today.weekday())
    try:
        year, w = week.split("-W")
        return date.fromisocalendar(int(year), int(w), 1)
    except ValueError:
        raise Invalid("a week is YYYY-Www, e.g. 2026-W50", field="week") from None


Week = Annotated[str | None, Query(max_length=10, description="YYYY-Www (default: this week)")]


class ItemBody(In):
    """A dish to publish: on a day's meal, with its price (yuan), portions (none: no limit)
    and allergens."""

    day: Day
    meal: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=120)
    name_en: str | None = Field(None, max_length=120)
    category: str = Field("dish", max_length=32)
    price: float = Field(ge=-1_000_000, le=100_000)
    portions: int | None = Field(None, ge=-1_000_000, le=100_000)
    allergens: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )


class MenuBody(In):
    """Dishes to publish, every one or none."""

    items: list[ItemBody] = Field(min_length=1, max_length=500)


class ItemChange(In):
    """What to change of a dish."""

    name: str | None = Field(None, min_length=1, max_length=120)
    price: float | None = Field(None, ge=-1_000_000, le=100_000)
    portions: int | None = Field(None, ge=0, le=100_000)
    unlimited: bool = False
    made: int | None = Field(None, ge=0, le=100_000)  # portions cooked (for the waste rate)


class StatusBody(In):
    """Sell out or withdraw a dish (or put it back on), with a word for those who ordered."""

    status: Literal["on", "sold_out", "withdrawn"]
    note: str = Field("", max_length=500)


class CopyBody(In):
    """Copy one week's menu to another (weeks as YYYY-Www)."""

    source: str = Field(max_length=10)
    target: str = Field(max_length=10)


class LineBody(In):
    """So many portions of a dish."""

    item_id: int = Field(ge=1, le=2**31 - 1)
    portions: int = Field(ge=0, le=50)


class OrderBody(In):
    """What the person eats at this meal (nothing: cancel)."""

    lines: list[LineBody] = Field(max_length=50)


class PickupBody(In):
    """An order at the counter: its code (read from the QR or typed), or its id (found by
    name)."""

    code: str = Field("", max_length=2000)  # an order's code, or a staff card's QR
    order_id: int | None = Field(None, ge=1, le=2**31 - 1)


class PhotoBody(In):
    """A dish's photo as a data URL."""

    photo: str = Field(max_length=12_000_000)


def _cents(price: float) -> int:
    return round(price * 100)


@router.get("/canteens", response_model=list[CanteenPublic], summary="The canteens and their meals")
def canteens(ctx: Ctx, _: Person) -> list[dict[str, Any]]:
    """Each canteen's meals, their serving hours and ordering cut-offs."""
    return [c.model_dump() for c in ctx.canteen.menu.canteens.values()]


@router.get(
    "/canteens/{canteen_id}/menu", response_model=list[MenuItemPublic], summary="A week's menu"
)
def week_menu(ctx: Ctx, canteen_id: str, _: Person, week: Week = None) -> list[dict[str, Any]]:
    """The dishes of the week, by day and meal, with what is left of each."""
    menu = ctx.canteen.menu
    return menu.week(canteen_id, _monday(week, menu.today()))


@router.post(
    "/canteens/{canteen_id}/menu",
    response_model=list[MenuItemPublic],
    status_code=201,
    summary="Publish dishes",
)
def publish(ctx: Ctx, canteen_id: str, body: MenuBody, who: Cook) -> list[dict[str, Any]]:
    """Put dishes on days' meals (every one or none: a day past, a negative price refuse
    them all)."""
    items = [
        ItemIn(
            day=i.day,
            meal=i.meal,
            name=i.name,
            name_en=i.name_en,
            category=i.category,
            price_cents=_cents(i.price),
            portions=i.portions,
            allergens=i.allergens,
        )
        for i in body.items
    ]
    return ctx.canteen.menu.publish(who, canteen_id, items)


@router.post(
    "/canteens/{canteen_id}/menu/copy",
    response_model=list[MenuItemPublic],
    status_code=201,
    summary="Copy a week's menu",
)
def copy_week(ctx: Ctx, canteen_id: str, body: CopyBody, who: Cook) -> list[dict[str, Any]]:
    """Last week's dishes again next week (days past left out; 409 if it has a menu)."""
    today = ctx.canteen.menu.today()
    return ctx.canteen.menu.copy_week(
        who, canteen_id, _monday(body.source, today), _monday(body.target, today)
    )


@router.patch("/canteen/items/{item_id}", response_model=MenuItemPublic, summary="Change a dish")
def change_item(ctx: Ctx, item_id: RowId, body: ItemChange, who: Cook) -> dict[str, Any]:
    """Rename, reprice (orders from now on) or resize it (never below what is ordered)."""
    return ctx.canteen.menu.change(
        who,
        item_id,
        name=body.name,
        price_cents=_cents(body.price) if body.price is not None else None,
        portions=body.portions,
        unlimited=body.unlimited,
        made=body.made,
    )


@router.post(
    "/canteen/items/{item_id}/status", response_model=MenuItemPublic, summary="Sell out or withdraw"
)
def item_status(ctx: Ctx, item_id: RowId, body: StatusBody, who: Cook) -> dict[str, Any]:
    """Sold out: no more orders (those placed stand); withdrawn: it leaves every order.
    Those who ordered it are told in their inbox."""
    return ctx.canteen.menu.set_status(who, item_id, body.status, body.note)


@router.put(
    "/canteen/items/{item_id}/photo", response_model=MenuItemPublic, summary="A dish's photo"
)
def put_photo(ctx: Ctx, item_id: RowId, body: PhotoBody, who: Cook) -> dict[str, Any]:
    """A JPEG, PNG or WebP as a data URL (re-encoded by the hub)."""
    raw = body.photo.split(",", 1)[1] if body.photo.startswith("data:") else body.photo
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("photo: not base64", field="photo") from None
    return ctx.canteen.menu.save_photo(who, item_id, data)


@router.get("/canteen/items/{item_id}/photo", summary="A dish's photo", response_class=FileResponse)
def get_photo(ctx: Ctx, item_id: RowId, _: Person) -> FileResponse:
    """The dish's photo (JPEG)."""
    return FileResponse(ctx.canteen.menu.photo(item_id), media_type="image/jpeg")


@router.put(
    "/canteens/{canteen_id}/orders/{day}/{meal}",
    response_model=OrderPublic,
    summary="Order for a meal",
)
async def order(
    ctx: Ctx, canteen_id: str, day: date, meal: str, body: OrderBody, who: Person
) -> dict[str, Any]:
    """Make your order for this meal exactly these dishes (no lines: cancel it), until the
    meal's cut-off. 409 after the cut-off or for a dish gone, sold out or without enough
    portions left; 422 over the meal's quota."""
    lines: dict[int, int] = {}
    for line in body.lines:
        lines[line.item_id] = lines.get(line.item_id, 0) + line.portions
    basket = Basket(who, canteen_id, day, meal, lines)
    return await ctx.canteen.orders.queue.submit(basket)  # the QR: from `mine`


def _with_qr(o: dict[str, Any]) -> dict[str, Any]:
    if o.get("code"):
        o["qr"] = qr_data_url(f"DYCANTEEN:{o['code']}", scale=6)
    return o


@router.delete("/canteen/orders/{order_id}", response_model=OrderPublic, summary="Cancel an order")
def cancel(ctx: Ctx, order_id: RowId, who: Person) -> dict[str, Any]:
    """Cancel your order (until its cut-off)."""
    return ctx.canteen.orders.cancel(who, order_id)


@router.get("/canteen/orders/mine", response_model=list[OrderPublic], summary="Your orders")
def mine(ctx: Ctx, who: Person) -> list[dict[str, Any]]:
    """Your orders from today on, each open one with its pickup code and QR."""
    return [_with_qr(o) for o in ctx.canteen.orders.mine(who)]


@router.get(
    "/canteens/{canteen_id}/orders", response_model=list[OrderPublic], summary="A meal's orders"
)
def meal_orders(
    ctx: Ctx,
    canteen_id: str,
    day: Day,
    meal: Annotated[str, Query(max_length=64)],
    _: Counter,
    q: Annotated[str, Query(max_length=60)] = "",
) -> list[dict[str, Any]]:
    """The counter's list: open and served orders of a meal (`q`: the start of a name)."""
    return ctx.canteen.orders.find(canteen_id, day, meal, q)


@router.post(
    "/canteens/{canteen_id}/pickups", response_model=OrderPublic, summary="Hand over an order"
)
def pickup(ctx: Ctx, canteen_id: str, body: PickupBody, who: Counter) -> dict[str, Any]:
    """Serve an order once, by its code (`DYCANTEEN:` prefix or not), its id, or the staff
    card on the person's phone (their order of this meal): 404 for an unknown code; 409 for
    one served before (when and by whom), cancelled, or of another canteen, day or meal, and
    for a phone's code that is stale, used already or of a suspended card."""
    code = body.code.strip().removeprefix("DYCANTEEN:")
    if not code and body.order_id is None:
        raise Invalid("give the order's code or id", field="code", key="canteen.unknown_code")
    cards = ctx.permits.credentials
    if cards is not None and cards.looks_like(code):
        try:
            holder = cards.verify(code, f"canteen:{canteen_id}")
        except PassError as err:
            raise Conflict(str(err), key="canteen.card", reason=str(err)) from None
        order = ctx.canteen.orders.order_now(canteen_id, holder.username)
        return ctx.canteen.orders.serve(who, canteen_id, order_id=order)
    if len(code) > 40:
        raise Invalid("not an order's code", field="code", key="canteen.unknown_code")
    return ctx.canteen.orders.serve(who, canteen_id, code=code, order_id=body.order_id)


@router.get(
    "/canteens/{canteen_id}/openmensa.xml",
    openapi_extra=PUBLIC,
    summary="The menu as an OpenMensa feed",
    response_class=Response,
)
def feed(
    ctx: Ctx,
    canteen_id: str,
    request: Request,
    token: Annotated[str, Query(max_length=2000)],
) -> Response:
    """This week's and next week's menu in OpenMensa's feed format v2.1, authenticated by a
    feed token in the URL (`/api/calendars/token`: apps can't send headers)."""
    ctx.identity.feed_user(token, client_of(request))
    menu = ctx.canteen.menu
    monday = _monday(None, menu.today())
    items = menu.week(canteen_id, monday) + menu.week(canteen_id, monday + timedelta(days=7))
    return Response(openmensa(menu.canteen(canteen_id), items), media_type="application/xml")
