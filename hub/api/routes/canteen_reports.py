"""What the canteen's kitchen learns (docs/canteen.md): live counts, the production sheet (JSON,
PDF, spreadsheet), dishes' popularity over weeks, the month's statements per person or unit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from hub.api.deps import Ctx, Day, allow
from hub.api.public import MenuItemPublic, PopularityRow, ProductionSheet, StatementRow
from hub.api.tables import Format, table_response
from hub.errors import Invalid
from hub.identity.roles import Principal, Role
from hub.services.canteen.render import production_pdf, production_rows
from hub.services.periods import parse_period

router = APIRouter(prefix="/api", tags=["canteen"])

Reader = Annotated[Principal, allow(Role.CANTEEN, Role.MANAGER, Role.ADMIN)]
PDF = "application/pdf"


@router.get(
    "/canteens/{canteen_id}/counts", response_model=list[MenuItemPublic], summary="Live counts"
)
def counts(
    ctx: Ctx,
    canteen_id: str,
    day: Day,
    _: Reader,
    meal: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Each dish of the day (or meal): portions, ordered, served, not collected, left."""
    return ctx.canteen.kitchen.counts(canteen_id, day, meal)


@router.get(
    "/canteens/{canteen_id}/production",
    response_model=ProductionSheet,
    summary="The production sheet",
    responses={200: {"content": {PDF: {}}}},
)
def production(
    ctx: Ctx,
    canteen_id: str,
    day: Day,
    _: Reader,
    format: Literal["json", "pdf", "xlsx", "csv"] = "json",
) -> Any:
    """What to make on a day, per meal and dish (after the cut-off: what is ordered), as
    JSON, PDF (to print) or a spreadsheet."""
    sheet = ctx.canteen.kitchen.production(canteen_id, day)
    name = f"production-{canteen_id}-{day}"
    if format == "pdf":
        return Response(
            production_pdf(sheet, ctx.site.site.name),
            media_type=PDF,
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    columns, rows = production_rows(sheet)
    return table_response(sheet, format, name, {"production": (columns, rows)})


@router.get(
    "/canteens/{canteen_id}/popularity",
    response_model=list[PopularityRow],
    summary="Dishes over some weeks",
)
def popularity(
    ctx: Ctx,
    canteen_id: str,
    first: Day,
    last: Day,
    _: Reader,
    format: Format = "json",
) -> Any:
    """Each dish from `first` to `last`: offered, made, ordered, served, no-shows, the
    no-show and waste rates; most ordered first."""
    if last < first or (last - first).days > 366:
        raise Invalid("first..last, at most a year", field="last")
    rows = ctx.canteen.kitchen.popularity(canteen_id, first, last)
    columns = list(PopularityRow.model_fields)
    return table_response(
        rows, format, f"popularity-{first}-{last}", {"popularity": (columns, rows)}
    )


@router.get(
    "/canteen/statements/{month}",
    response_model=list[StatementRow],
    summary="The month's meals per person or unit",
)
def statement(
    ctx: Ctx,
    month: str,
    _: Reader,
    by: Literal["person", "unit"] = "person",
    format: Format = "json",
) -> Any:
    """Orders, portions, and the amounts served and not collected, per person or work unit
    (for the compound's payment system)."""
    try:
        period = parse_period(month, ctx.canteen.kitchen.tz)
    except ValueError:
        period = None
    if period is None or period.kind != "month":
        raise Invalid("a month is YYYY-MM", field="month")
    rows = ctx.canteen.kitchen.statement(period.first, by)
    columns = [by, "orders", "portions", "served", "no_show", "total"]
    return table_response(rows, format, f"canteen-{month}-{by}", {"statement": (columns, rows)})
