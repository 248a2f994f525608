"""The site model as the map and staff pages need it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from hub.api.deps import Ctx, allow
from hub.identity.roles import PEOPLE, Principal, Role
from hub.site.geo import to_geojson

router = APIRouter(prefix="/api/site", tags=["site"])


def _feature(
    layer: str, fid: str, name: str, geometry: dict[str, Any], **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"{layer}:{fid}",
        "geometry": geometry,
        "properties": {"layer": layer, "id": fid, "name": name, **props},
    }


@router.get("", summary="The compound: summary and map layers as GeoJSON")
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
    return {
        "id": s.site.id,
        "name": s.site.name,
        "name_en": s.site.name_en,
        "timezone": s.site.timezone,
        "center": {"lat": s.site.center.lat, "lon": s.site.center.lon},
        "zoom": s.site.zoom,
        "summary": s.summary(),
        "layers": {"type": "FeatureCollection", "features": features},
    }
