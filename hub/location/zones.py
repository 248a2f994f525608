"""Which zone of the site a position is in; the smallest containing zone wins.

A compound has a handful to a few dozen zones: a bounding-box test in plain Python and then
`shapely.contains_xy` on prepared geometries is faster per fix than building a shapely Point
for an STRtree query. Sites with many zones use the STRtree.
"""

from __future__ import annotations

import shapely
from shapely import STRtree

from hub.site import Site

_TREE_FROM = 64  # zones


class ZoneIndex:
    """Point-in-zone lookups."""

    def __init__(self, site: Site) -> None:
        zones = sorted(((z.geometry.to_shape(), z.id) for z in site.zones), key=lambda z: z[0].area)
        for shape, _ in zones:
            shapely.prepare(shape)
        self._boxes = [(*shape.bounds, shape, zid) for shape, zid in zones]
        self._ids = [zid for _, zid in zones]
        self._tree = STRtree([s for s, _ in zones]) if len(zones) >= _TREE_FROM else None
        self._boundary = site.site.boundary.to_shape()
        shapely.prepare(self._boundary)

    def zone_of(self, lat: float, lon: float) -> str | None:
        """The zone id at a position, or None."""
        if self._tree is not None:
            hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
            return self._ids[int(min(hits))] if len(hits) else None
        for minx, miny, maxx, maxy, shape, zid in self._boxes:
            if minx <= lon <= maxx and miny <= lat <= maxy and shapely.contains_xy(shape, lon, lat):
                return str(zid)
        return None

    def inside_site(self, lat: float, lon: float) -> bool:
        """Whether a position is within the compound's boundary."""
        return bool(shapely.contains_xy(self._boundary, lon, lat))
