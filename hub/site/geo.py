"""Geometry of the site model: WGS84 points, GeoJSON polygons and circles, checked with shapely.

GeoJSON positions are [longitude, latitude] (RFC 7946 §3.1.1); points written by people in the
site file are `{lat: .., lon: ..}` mappings so the order can't be confused.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

# Metres per degree of latitude; longitude degrees shrink with cos(latitude).
_M_PER_DEG = 111_320.0


class Strict(BaseModel):
    """Base of every site-file model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class GeoPoint(Strict):
    """A WGS84 position."""

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]

    def to_shape(self) -> BaseGeometry:
        """As a shapely point in (lon, lat) order."""
        return shapely.Point(self.lon, self.lat)


Position = tuple[float, float]


def _check_ring(ring: list[Position], index: int) -> list[Position]:
    if len(ring) < 3:
        raise ValueError(f"ring {index} needs at least 3 positions")
    for lon, lat in ring:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not (
            math.isfinite(lon) and math.isfinite(lat)
        ):
            raise ValueError(
                f"ring {index} has position [{lon}, {lat}] outside WGS84 "
                "(GeoJSON order is [longitude, latitude])"
            )
    if ring[0] != ring[-1]:
        ring = [*ring, ring[0]]  # close the ring as RFC 7946 requires
    if len(ring) < 4:
        raise ValueError(f"ring {index} needs at least 3 distinct positions")
    return ring


def _explain(shape: BaseGeometry) -> str:
    # shapely says "Self-intersection[120.0005 30.0005]": make the place readable.
    return str(explain_validity(shape)).replace("[", " at [lon lat = ", 1)


class PolygonGeometry(Strict):
    """A GeoJSON Polygon: an outer ring and optional holes."""

    type: Literal["Polygon"]
    coordinates: list[list[Position]]

    @field_validator("coordinates")
    @classmethod
    def _valid_polygon(cls, rings: list[list[Position]]) -> list[list[Position]]:
        if not rings:
            raise ValueError("a polygon needs an outer ring")
        closed = [_check_ring(r, i) for i, r in enumerate(rings)]
        poly = shapely.Polygon(closed[0], closed[1:])
        if not poly.is_valid:
            raise ValueError(f"polygon is not valid: {_explain(poly)}")
        return closed

    def to_shape(self) -> BaseGeometry:
        """As a shapely polygon in (lon, lat)."""
        return shapely.Polygon(self.coordinates[0], self.coordinates[1:])


class MultiPolygonGeometry(Strict):
    """A GeoJSON MultiPolygon."""

    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]

    @field_validator("coordinates")
    @classmethod
    def _valid_multipolygon(cls, polys: list[list[list[Position]]]) -> list[list[list[Position]]]:
        if not polys:
            raise ValueError("a multipolygon needs at least one polygon")
        out = [[_check_ring(r, i) for i, r in enumerate(rings)] for rings in polys]
        shape = shapely.MultiPolygon([(p[0], p[1:]) for p in out])
        if not shape.is_valid:
            raise ValueError(f"multipolygon is not valid: {_explain(shape)}")
        return out

    def to_shape(self) -> BaseGeometry:
        """As a shapely multipolygon in (lon, lat)."""
        return shapely.MultiPolygon([(p[0], p[1:]) for p in self.coordinates])


class CircleGeometry(Strict):
    """A circle around a point (not GeoJSON; converted to a polygon for display)."""

    type: Literal["Circle"]
    center: GeoPoint
    radius_m: Annotated[float, Field(gt=0, le=100_000)]

    def to_shape(self) -> BaseGeometry:
        """An equal-area-enough polygon approximation in (lon, lat), 64 segments."""
        lat0 = math.radians(self.center.lat)
        dlat = self.radius_m / _M_PER_DEG
        dlon = self.radius_m / (_M_PER_DEG * max(math.cos(lat0), 1e-6))
        ring = [
            (
                self.center.lon + dlon * math.cos(2 * math.pi * i / 64),
                self.center.lat + dlat * math.sin(2 * math.pi * i / 64),
            )
            for i in range(64)
        ]
        return shapely.Polygon(ring)


Area = Annotated[
    PolygonGeometry | MultiPolygonGeometry | CircleGeometry, Field(discriminator="type")
]


def to_geojson(shape: BaseGeometry) -> dict[str, object]:
    """A shapely geometry as a GeoJSON geometry mapping."""
    return dict(shapely.geometry.mapping(shape))
