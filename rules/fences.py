"""The site's geofences in a spatial index: which fences a fix is in, which a segment touches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from hub.site import Site


class Fences:
    """The site's geofences in an STRtree: which fences contain each fix of a batch, and
    which fences each segment between two fixes touches, in one vectorised query each
    (shapely 2; a fence's edge counts as inside)."""

    def __init__(self, site: Site) -> None:
        self.ids = [g.id for g in site.geofences]
        geoms = [g.geometry.to_shape() for g in site.geofences]
        self._tree = shapely.STRtree(geoms) if geoms else None
        self._applies = {g.id: [k.value for k in g.applies_to] for g in site.geofences}

    def containing(self, points: Sequence[tuple[float, float]]) -> list[frozenset[str]]:
        """For each (lat, lon), the ids of the fences it is in."""
        out: list[set[str]] = [set() for _ in points]
        if self._tree is None or not points:
            return [frozenset()] * len(points)
        coords = np.asarray([(lon, lat) for lat, lon in points], dtype=float)
        hits = self._tree.query(shapely.points(coords), predicate="intersects")
        for p, g in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
            out[p].add(self.ids[g])
        return [frozenset(s) for s in out]

    def crossed(
        self, segments: Sequence[tuple[int, tuple[float, float], tuple[float, float]]]
    ) -> dict[int, frozenset[str]]:
        """For (key, (lat, lon), (lat, lon)) segments, the fences each touches, by key (only
        the keys that touch any)."""
        if self._tree is None or not segments:
            return {}
        lines = shapely.linestrings(
            np.asarray([[(a[1], a[0]), (b[1], b[0])] for _, a, b in segments], dtype=float)
        )
        hits = self._tree.query(lines, predicate="intersects")
        out: dict[int, set[str]] = {}
        for k, g in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
            out.setdefault(segments[k][0], set()).add(self.ids[g])
        return {key: frozenset(v) for key, v in out.items()}

    def applies(self, fence: str) -> list[str]:
        """The subject kinds the fence is for (empty: everyone)."""
        return self._applies.get(fence, [])

    def applies_to(self, group: Sequence[str]) -> list[str]:
        """The subject kinds a group of fences is for (empty: everyone)."""
        kinds = [self.applies(f) for f in group]
        if any(not k for k in kinds):
            return []
        return sorted({k for ks in kinds for k in ks})
