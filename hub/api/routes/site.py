"""The site model as the map and staff pages need it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from hub.api.deps import Ctx, allow
from hub.api.public import SitePublic
from hub.errors import NotFound
from hub.identity.roles import PEOPLE, Principal, Role
from hub.site.geo import to_geojson
from hub.site.locate import feature_id

router = APIRouter(prefix="/api/site", tags=["site"])


def _feature(
    layer: str, fid: str, name: str, geometry: dict[str, Any], **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": feature_id(layer, fid),
        "geometry": geometry,
        "properties": {"layer": layer, "id": fid, "name": name, **props},
    }


@router.get(
    "", response_model=SitePublic, summary="The compound: summary and map layers as GeoJSON"
)
def site(ctx: Ctx, _: Annotated[Principal, allow(PEOPLE, Role.DISPLAY)]) -> dict[str, Any]:
    """Everything the map draws, computed on the server (circles become polygons here)."""
    s = ctx.site
    features: list[dict[str, Any]] = [
        _feature("boundary", s.site.id, s.site.name, to_geojson(s.site.boundary.to_shape()))
    ]
    for b in s.buildings:
        features.append(
            _feature(
                "building",
                b.id,
                b.name,
                to_geojson(b.footprint.to_shape()),
                name_en=b.name_en,
                floors=[f.id for f in b.floors],
            )
        )
    for z in s.zones:
        features.append(
            _feature("zone", z.id, z.name, to_geojson(z.geometry.to_shape()), kind=z.kind.value)
        )
    for g in s.geofences:
        features.append(
            _feature(
                "geofence",
                g.id,
                g.name,
                to_geojson(g.geometry.to_shape()),
                applies_to=[k.value for k in g.applies_to],
            )
        )
    for c in s.checkpoints:
        features.append(_feature("checkpoint", c.id, c.name, to_geojson(c.location.to_shape())))
    for gate in s.gates:
        features.append(
            _feature(
                "gate",
                gate.id,
                gate.name,
                to_geojson(gate.location.to_shape()),
                kind=gate.kind.value,
            )
        )
    for d in s.devices:
        if d.location:
            features.append(
                _feature("device", d.id, d.name, to_geojson(d.location.to_shape()), kind=d.kind)
            )
    plans = [
        {
            "building": b.id,
            "floor": f.id,
            "name": f.name,
            "level": f.level,
            "url": f"/api/site/plans/{b.id}/{f.id}",
            "top_left": f.plan.top_left.model_dump(),
            "top_right": f.plan.top_right.model_dump(),
            "bottom_left": f.plan.bottom_left.model_dump(),
        }
        for b in s.buildings
        for f in b.floors
        if f.plan
    ]
    # Who the map's moving markers are: tracked people by name and role, vehicles by plate.
    subjects = [
        {"id": p.id, "name": p.name, "kind": "person", "role": p.role.value}
        for p in s.people
        if p.badges or p.phones
    ]
    subjects += [
        {"id": v.id, "name": v.name or v.plate, "kind": "vehicle", "plate": v.plate}
        for v in s.vehicles
    ]
    live = ctx.settings.live
    return {
        "id": s.site.id,
        "name": s.site.name,
        "name_en": s.site.name_en,
        "timezone": s.site.timezone,
        "center": {"lat": s.site.center.lat, "lon": s.site.center.lon},
        "zoom": s.site.zoom,
        "summary": s.summary(),
        "layers": {"type": "FeatureCollection", "features": features},
        "plans": plans,
        "subjects": subjects,
        "map": {"tile_url": live.tile_url, "tile_attribution": live.tile_attribution},
    }


_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg"}


@router.get("/plans/{building}/{floor}", summary="A floor's plan image")
def plan(
    ctx: Ctx,
    building: str,
    floor: str,
    _: Annotated[Principal, allow(PEOPLE, Role.DISPLAY)],
) -> FileResponse:
    """The image the site file pins on the floor (SVG, PNG or JPEG); 404 if it has none."""
    b = next((b for b in ctx.site.buildings if b.id == building), None)
    f = next((f for f in b.floors if f.id == floor), None) if b else None
    base = ctx.settings.site_file.parent if ctx.settings.site_file else None
    if f is None or f.plan is None or base is None:
        raise NotFound(f"no plan for {building}/{floor}")
    path = base / f.plan.image
    kind = _IMAGE_TYPES.get(path.suffix.lower())
    if kind is None or not path.is_file():
        raise NotFound(f"no plan image for {building}/{floor}")
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})
