"""The demo's walkers: a guard who skips a checkpoint, a car that leaves the district."""

from __future__ import annotations

import shapely

from adapters.location_sim.simulator import Walker, demo_walkers
from hub.site import Site


def test_the_skipping_guard_and_the_stray_car(demo_site: Site) -> None:
    walkers = {
        w.subject: w for w in demo_walkers(demo_site, skip=("g1", "cp-plant"), stray_car="car-3")
    }
    plant = next(c for c in demo_site.checkpoints if c.id == "cp-plant")
    g1 = walkers["g1/phone"]
    assert (plant.location.lat, plant.location.lon) not in g1.path
    assert "cp-plant" not in g1.stops.values()
    assert walkers["g3/phone"].badge == "fda50693-a4e2-4fb1-afcf-c6eb07647825-1-3"
    district = demo_site.site.district.to_shape()  # type: ignore[union-attr]
    stray = walkers["860000000000003"].path
    assert any(not district.contains(shapely.Point(lon, lat)) for lat, lon in stray)
    home = walkers["860000000000001"].path
    assert all(district.contains(shapely.Point(lon, lat)) for lat, lon in home)


def test_a_walker_moves_along_its_path_at_its_speed() -> None:
    w = Walker("x", [(30.0, 120.0), (30.001, 120.0)], speed_mps=10.0, kind="guard")
    lat0, *_ = w.at()
    w.step(5.0)  # 50 m north of ~111 m
    lat1, lon1, leg, _ = w.at()
    assert leg == 0
    assert abs((lat1 - lat0) * 111_320 - 50) < 1
    assert lon1 == 120.0
