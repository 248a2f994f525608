"""Suggestions and complaints as Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2),
so reporting apps and dashboards that speak it read and file them: the categories are the
services, the items the service requests. JSON or XML by the path's ending, as the spec asks.

Authentication as everywhere on the hub (a bearer token or an API key in `X-API-Key`), and, as
Open311 clients send it, an API key in `api_key` (query or form); a key needs the `reporter`
role (or a person's account). What a client may read: a handler's categories whole; anyone
else, the public board and what they filed themselves. What the hub does not keep of a
request: the reporter's e-mail, names, phone, device and account ids (accepted and dropped),
nor does it fetch `media_url` (a photo comes as a `media` file in a multipart form)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from hub.api.deps import Ctx, allow
from hub.errors import HubError, Invalid
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.feedback import Draft, Feedback

router = APIRouter(prefix="/api/open311/v2", tags=["open311"])

Client = Annotated[Principal, allow(PEOPLE, Role.REPORTER, query_key="api_key")]
Format = Literal["json", "xml"]
SPEC = "http://wiki.open311.org/GeoReport_v2"
ROOTS = {"service": "services", "request": "service_requests", "error": "errors"}


def _render(fmt: Format, rows: list[dict[str, Any]], item: str, status: int = 200) -> Response:
    """A list of objects: a JSON array, or an XML document of `<item>` elements."""
    if fmt == "json":
        return Response(orjson.dumps(rows), status, media_type="application/json")
    root = ET.Element(ROOTS.get(item, item + "s"))
    for row in rows:
        _xml(ET.SubElement(root, item), row)
    return _xml_response(root, status)


def _document(fmt: Format, row: dict[str, Any], root: str) -> Response:
    """One object: as JSON, or as the XML element `root`."""
    if fmt == "json":
        return Response(orjson.dumps(row), media_type="application/json")
    node = ET.Element(root)
    _xml(node, row)
    return _xml_response(node, 200)


def _xml_response(root: ET.Element, status: int) -> Response:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
    return Response(text.encode(), status, media_type="text/xml; charset=utf-8")


def _xml(node: ET.Element, row: dict[str, Any]) -> None:
    """The object's fields as child elements; a list as repeated elements named in the
    singular (`endpoints` → `endpoint`), empty values as empty elements."""
    for key, value in row.items():
        child = ET.SubElement(node, key)
        if isinstance(value, list):
            for v in value:
                _value(ET.SubElement(child, key.removesuffix("s")), v)
        else:
            _value(child, value)


def _value(node: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        _xml(node, value)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def _error(fmt: Format, err: HubError) -> Response:
    status = err.status if err.status != 422 else 400
    return _render(fmt, [{"code": status, "description": str(err)}], "error", status)


def _service(f: Feedback, code: str) -> dict[str, Any]:
    c = f.categories[code]
    unit = f.units.get(c.unit) if c.unit else None
    return {
        "service_code": c.id,
        "service_name": c.name,
        "description": f"{c.name_en or c.name}"
        + (f" · {unit.name}" if unit else "")
        + f" · first answer within {c.answer_min} business minutes",
        "metadata": True,
        "type": "realtime",
        "keywords": c.name_en or "",
        "group": "建议投诉",
    }


def _request(item: dict[str, Any]) -> dict[str, Any]:
    final = item["status"] in ("closed", "declined")
    return {
        "service_request_id": str(item["id"]),
        "status": "closed" if final else "open",
        "status_notes": item["reason"] or item["reply"] or item["status"],
        "service_name": item["category_name"],
        "service_code": item["category"],
        "description": item["body"],
        "agency_responsible": item["unit_name"] or "",
        "service_notice": "",
        "requested_datetime": item["created_at"],
        "updated_datetime": item["updated_at"],
        "expected_datetime": None if final else item["close_due"],
        "address": item["place"],
        "address_id": item["room"] or item["asset"] or item["building"] or "",
        "zipcode": "",
        "lat": item["lat"],
        "long": item["lon"],
        "media_url": f"/api/feedback/{item['id']}/photos/0" if item["photos"] else "",
    }


@router.get("/discovery.{fmt}", summary="Open311: discovery")
def discovery(ctx: Ctx, fmt: Format, request: Request, _: Client) -> Response:
    """Where this hub's GeoReport v2 endpoint is and what it speaks."""
    base = (ctx.settings.public_url or str(request.base_url)).rstrip("/") + router.prefix
    row = {
        "changeset": "2026-12-04T00:00:00Z",
        "contact": ctx.site.site.name,
        "key_service": "hub key add <name> --role reporter",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": "2026-12-04T00:00:00Z",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _document(fmt, row, "discovery")


@router.get("/services.{fmt}", summary="Open311: the services")
def services(ctx: Ctx, fmt: Format, _: Client) -> Response:
    """The categories, as services."""
    f = ctx.feedback
    return _render(fmt, [_service(f, c) for c in f.categories], "service")


@router.get("/services/{code}.{fmt}", summary="Open311: a service's definition")
def definition(ctx: Ctx, code: str, fmt: Format, _: Client) -> Response:
    """Its one attribute: whether the request is a complaint (the default) or a suggestion."""
    if code not in ctx.feedback.categories:
        return _error(fmt, Invalid(f"no service {code!r}"))
    row = {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "complaint or suggestion",
                "order": 1,
                "description": "建议还是投诉 / a complaint or a suggestion",
                "values": [
                    {"key": "complaint", "name": "投诉 complaint"},
                    {"key": "suggestion", "name": "建议 suggestion"},
                ],
            }
        ],
    }
    return _document(fmt, row, "service_definition")


@router.post("/requests.{fmt}", summary="Open311: file a request")
async def post_request(ctx: Ctx, fmt: Format, request: Request, who: Client) -> Response:
    """A form (urlencoded, or multipart with a `media` photo): `service_code`, `description`,
    and where — `lat` and `long`, `address_string`, or `address_id` (a building, room or asset
    of the site)."""
    form = await request.form()
    try:
        draft = await _draft(ctx.feedback, form)
        item = await run_in_threadpool(ctx.feedback.submit, who, draft, source="open311")
    except HubError as err:
        return _error(fmt, err)
    notice = f"answer due by {item['answer_due']}"
    row = {"service_request_id": str(item["id"]), "service_notice": notice, "account_id": None}
    return _render(fmt, [row], "request", 201)


async def _draft(f: Feedback, form: FormData) -> Draft:
    def text(name: str, limit: int = 5000) -> str | None:
        value = form.get(name)
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{name}: text expected")
        if value is not None and len(value) > limit:
            raise Invalid(f"{name}: longer than {limit} characters")
        return value.strip() if value else None

    code = text("service_code", 64)
    if not code or code not in f.categories:
        raise Invalid(f"service_code: no service {code!r}")
    description = text("description") or ""
    lat, lon = _number(text("lat", 40), "lat"), _number(text("long", 40), "long")
    address, address_id = text("address_string", 200), text("address_id", 64)
    if lat is None and lon is None and not address and not address_id:
        raise Invalid("say where: lat and long, address_string or address_id")
    place: dict[str, str | None] = {"building": None, "room": None, "asset": None}
    if address_id:
        which = next(
            (
                k
                for k, known in (("room", f.rooms), ("asset", f.assets), ("building", f.buildings))
                if address_id in known
            ),
            None,
        )
        if which is None:
            raise Invalid(f"address_id: no place {address_id!r} on this site")
        place[which] = address_id
    kind = text("attribute[kind]", 16) or "complaint"
    photos: list[str] = []
    media = form.get("media")
    if isinstance(media, UploadFile):
        data = await media.read(8 * 1024 * 1024 + 1)
        photos.append(base64.b64encode(data).decode())
    first = description.split("\n", 1)[0].strip()
    return Draft(
        kind=kind,
        category=code,
        title=first[:60] or f.categories[code].name,
        body=description,
        photos=tuple(photos),
        lat=lat,
        lon=lon,
        address=address,
        building=place["building"],
        room=place["room"],
        asset=place["asset"],
    )


def _number(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name}: not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Invalid(f"{name}: not a number")
    return number


@router.get("/requests.{fmt}", summary="Open311: requests")
def get_requests(
    ctx: Ctx,
    fmt: Format,
    who: Client,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=64)] = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Literal["open", "closed"] | None = None,
) -> Response:
    """Newest first; without dates, the last 90 days; at most 1,000."""
    try:
        ids = _ids(service_request_id)
        items = ctx.feedback.search(
            who,
            ids=ids,
            category=service_code,
            start=start_date,
            end=end_date,
            final=None if status is None else status == "closed",
        )
    except HubError as err:
        return _error(fmt, err)
    return _render(fmt, [_request(i) for i in items], "request")


@router.get("/requests/{request_id}.{fmt}", summary="Open311: one request")
def get_request(ctx: Ctx, request_id: str, fmt: Format, who: Client) -> Response:
    """One request, if the client may read it (404 otherwise)."""
    try:
        ids = _ids(request_id)
        items = ctx.feedback.search(who, ids=ids[:1])
    except HubError as err:
        return _error(fmt, err)
    if not items:
        return _render(fmt, [{"code": 404, "description": "no such request"}], "error", 404)
    return _render(fmt, [_request(items[0])], "request")


def _ids(text: str | None) -> list[int]:
    out: list[int] = []
    for part in (text or "").split(","):
        if part.strip():
            if not part.strip().isdigit() or len(part.strip()) > 18:
                raise Invalid(f"service_request_id: {part.strip()!r} is not a request id")
            out.append(int(part.strip()))
    return out
