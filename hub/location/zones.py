"""Which zone of the site a position is in (shapely STRtree over the zones' polygons)."""

from __future__ import annotations

import shapely
from shapely import STRtree

from hub.site import Site


class ZoneIndex:
    """Point-in-zone lookups; the smallest containing zone wins where zones overlap."""

    def __init__(self, site: Site) -> None:
        zones = sorted(((z.geometry.to_shape(), z.id) for z in site.zones), key=lambda z: z[0].area)
        self._shapes = [s for s, _ in zones]
        self._ids = [i for _, i in zones]
        self._tree = STRtree(self._shapes) if self._shapes else None
        self._boundary = site.site.boundary.to_shape()

    def zone_of(self, lat: float, lon: float) -> str | None:
        """The zone id at a position, or None."""
        if self._tree is None:
            return None
        point = shapely.Point(lon, lat)
        hits = self._tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return None
        return self._ids[int(min(hits))]  # indices follow area order: the smallest zone

    def inside_site(self, lat: float, lon: float) -> bool:
        """Whether a position is within the compound's boundary."""
        return bool(self._boundary.intersects(shapely.Point(lon, lat)))
