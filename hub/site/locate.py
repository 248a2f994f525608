"""Where on the wall map an alarm is: its originator turned into a map feature's id."""

from __future__ import annotations

from collections.abc import Callable

from hub.site.model import Site


def feature_id(layer: str, item: str) -> str:
    """The id of a map feature: its layer and the site item's id (`device:ahu-b1`); the one
    place `/api/site`'s layers and the alarms' locations agree on."""
    return f"{layer}:{item}"


def map_locator(site: Site) -> Callable[[str], str | None]:
    """A function from an alarm's originator to the id of the map feature it concerns.

    Ids are those of `/api/site`'s layers (`device:ahu-b1`, `checkpoint:cp-3`, `gate:g-main`,
    `building:b1`) or `subject:<id>` for a guard's or vehicle's marker; None when the alarm is
    about nothing on the map (a rule's own failure)."""
    features: dict[str, str] = {}
    for b in site.buildings:
        features[b.id] = feature_id("building", b.id)
    for d in site.devices:
        where = feature_id("device", d.id) if d.location else ""
        if not where and d.building:
            where = feature_id("building", d.building)
        if where:
            features[d.id] = where
            for p in d.points:
                features[d.point_id(p)] = where
    for c in site.checkpoints:
        features[c.id] = feature_id("checkpoint", c.id)
    for g in site.gates:
        features[g.id] = feature_id("gate", g.id)
    for subject in (*site.people, *site.vehicles):
        features[subject.id] = feature_id("subject", subject.id)

    def locate(originator: str) -> str | None:
        if originator in features:
            return features[originator]
        # A patrol checkpoint is "<route>/<checkpoint>".
        _, _, last = originator.rpartition("/")
        return features.get(last) if last else None

    return locate
