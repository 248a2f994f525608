"""The site file: the demo loads; a broken file reports every problem at once, with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.site import Site, SiteConfigError, check_site_text, load_site

BOX = "[[[120.0, 30.0], [120.001, 30.0], [120.001, 30.001], [120.0, 30.001], [120.0, 30.0]]]"
BOWTIE = "[[[120.0, 30.0], [120.001, 30.001], [120.001, 30.0], [120.0, 30.001], [120.0, 30.0]]]"

GOOD = f"""
site:
  id: s1
  name: 测试大院
  center: {{lat: 30.0005, lon: 120.0005}}
  boundary: {{type: Polygon, coordinates: {BOX}}}
buildings:
  - id: b1
    name: 一号楼
    footprint: {{type: Polygon, coordinates: {BOX}}}
    floors: [{{id: "1F", name: 一层}}]
work_units:
  - {{id: u1, name: 办公室}}
people:
  - {{id: g1, name: 保安, role: guard, work_unit: u1, badges: [badge-1]}}
devices:
  - id: m1
    name: 电表
    kind: energy_meter
    protocol: modbus
    building: b1
    floor: "1F"
    connection: {{host: 127.0.0.1, port: 502, password_env: METER_PW}}
    points:
      - {{id: energy, unit: kWh, kind: counter, address: 342}}
checkpoints:
  - {{id: cp1, name: 门岗, location: {{lat: 30.0001, lon: 120.0001}}}}
patrol_routes:
  - {{id: r1, name: 巡逻, checkpoints: [cp1], guards: [g1]}}
"""

BROKEN = f"""
site:
  id: s1
  name: 测试大院
  timezone: Mars/Olympus
  center: {{lat: 30.0005, lon: 120.0005}}
  boundary: {{type: Polygon, coordinates: {BOWTIE}}}
buildings:
  - id: b1
    name: 一号楼
    footprint: {{type: Polygon, coordinates: {BOX}}}
    colour: red
zones:
  - {{id: z1, name: 区域, building: b9, geometry: {{type: Circle, center: {{lat: 30, lon: 120}}, radius_m: -5}}}}
people:
  - {{id: g1, name: 保安, role: guard, work_unit: nowhere, badges: [badge-1]}}
  - {{id: g1, name: 保安二, role: guard, badges: [badge-1]}}
devices:
  - id: m1
    name: 电表
    kind: energy_meter
    protocol: modbus
    connection: {{host: 127.0.0.1, password: hunter2}}
    points:
      - {{id: energy, unit: kWh, address: 70000}}
      - {{id: energy, unit: kWh, address: 1}}
patrol_routes:
  - {{id: r1, name: 巡逻, checkpoints: [cp-missing]}}
lifts: []
"""


def problems_of(text: str) -> dict[str, str]:
    site, problems = check_site_text(text)
    assert site is None
    return {p.path: p.message for p in problems}


def test_demo_site_loads_with_everything_a_compound_has(demo_site: Site) -> None:
    counts = demo_site.summary()
    assert counts["buildings"] >= 3
    assert counts["gates"] == 2
    assert counts["rooms"] >= 5
    assert counts["vehicles"] == 3
    assert sum(p.role == "guard" for p in demo_site.people) == 4
    assert {d.kind for d in demo_site.devices} >= {"energy_meter", "air_handler"}


def test_good_site_loads_and_indexes_points() -> None:
    site, problems = check_site_text(GOOD)
    assert problems == []
    assert site is not None
    assert list(site.point_ids()) == ["m1.energy"]
    assert site.devices[0].connection["password_env"] == "METER_PW"


def test_broken_site_lists_every_problem_with_its_path() -> None:
    found = problems_of(BROKEN)
    expected = {
        "site.timezone": "unknown time zone",
        "site.boundary.coordinates": "Self-intersection",
        "buildings[0].colour": "unknown key",
        "zones[0].geometry.radius_m": "greater than 0",
        "people[1].id": "duplicate id 'g1'",
        "devices[0].connection": "secrets never go in the site file",
        "devices[0].points[0].address": "must be 0..65535",
        "lifts": "unknown section",
        "patrol_routes[0].checkpoints[0]": "unknown checkpoint 'cp-missing'",
        "people[0].work_unit": "unknown work unit 'nowhere'",
        "zones[0].building": "unknown building 'b9'",
    }
    for path, fragment in expected.items():
        assert path in found, f"{path} not reported; got {sorted(found)}"
        assert fragment in found[path], f"{path}: {found[path]!r} lacks {fragment!r}"


def test_problems_carry_line_numbers_of_the_file() -> None:
    _, problems = check_site_text(BROKEN)
    by_path = {p.path: p for p in problems}
    line = by_path["devices[0].points[0].address"].line
    assert line is not None
    assert "70000" in BROKEN.splitlines()[line - 1]


def test_duplicates_inside_items_are_found() -> None:
    text = GOOD.replace("address: 342}", "address: 342}\n      - {id: energy, unit: kWh}")
    text = text.replace(
        "badges: [badge-1]}",
        "badges: [badge-1]}\n  - {id: g2, name: 乙, role: guard, badges: [badge-1]}",
    )
    found = problems_of(text)
    assert "duplicate id 'energy'" in found["devices[0].points"]
    assert "'badge-1' is already used by 'g1'" in found["people[1].badges"]


def test_duplicate_yaml_keys_are_reported_not_silently_overwritten() -> None:
    text = GOOD.replace("  name: 测试大院\n", "  name: 测试大院\n  name: 另一个\n", 1)
    assert problems_of(text)["site.name"] == "duplicate key"


def test_invalid_yaml_names_the_line() -> None:
    _, problems = check_site_text("site:\n  id: [unclosed\n")
    assert problems[0].path == "(yaml)"
    assert problems[0].line is not None


@pytest.mark.parametrize(
    ("yaml_text", "path"),
    [
        ("", "(top level)"),
        ("- a\n- b\n", "(top level)"),
        ("site: 3\n", "site"),
        ("site: {id: x}\nbuildings: {}\n", "buildings"),
    ],
)
def test_wrong_shapes_are_problems_not_crashes(yaml_text: str, path: str) -> None:
    site, problems = check_site_text(yaml_text)
    assert site is None
    assert path in {p.path for p in problems}


def test_geojson_order_mistake_is_explained() -> None:
    swapped = BOX.replace("120.0", "X").replace("30.0", "120.0").replace("X", "30.0")
    swapped = swapped.replace("120.001", "Y").replace("30.001", "120.001").replace("Y", "30.001")
    text = GOOD.replace(
        f"boundary: {{type: Polygon, coordinates: {BOX}}}",
        f"boundary: {{type: Polygon, coordinates: {swapped}}}",
    )
    # [30, 120] is a valid lon/lat pair, so use an impossible latitude to trigger the check.
    text = text.replace(swapped, "[[[30.0, 120.0], [30.1, 120.0], [30.1, 120.1], [30.0, 120.0]]]")
    assert "[longitude, latitude]" in problems_of(text)["site.boundary.coordinates"]


def test_load_site_raises_with_all_problems(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(SiteConfigError) as err:
        load_site(path)
    assert len(err.value.problems) >= 11
    assert "devices[0].points[0].address" in str(err.value)


def test_missing_floor_plan_image_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace(
        '[{id: "1F", name: 一层}]',
        '[{id: "1F", name: 一层, plan: {image: plans/b1-1f.png, '
        "top_left: {lat: 30.001, lon: 120.0}, top_right: {lat: 30.001, lon: 120.001}, "
        "bottom_left: {lat: 30.0, lon: 120.0}}}]",
    )
    (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SiteConfigError) as err:
        load_site(tmp_path / "site.yaml")
    assert "buildings[0].floors[0].plan.image" in str(err.value)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "b1-1f.png").write_bytes(b"\x89PNG")
    assert load_site(tmp_path / "site.yaml").buildings[0].floors[0].plan is not None


def test_rules_naming_unknown_things_or_contradicting_themselves_are_problems() -> None:
    rules = """
rules:
  - {id: r-ok, kind: equipment_fault, devices: [m1]}
  - {id: r-dev, kind: equipment_fault, devices: [m9]}
  - {id: r-fence, kind: geofence, fence: gf-none}
  - {id: r-point, kind: threshold, point: m1.nothing, above: 3}
  - {id: r-both, kind: threshold, point: m1.energy, above: 3, below: 1}
  - {id: r-kind, kind: teleport}
  - {id: r-ok, kind: silence, devices: [m1], after_s: 0}
"""
    problems = problems_of(GOOD + rules)
    assert problems["rules[1].devices[0]"] == "unknown device 'm9'"
    assert problems["rules[2].fence"] == "unknown geofence 'gf-none'"
    assert problems["rules[3].point"] == "unknown point 'm1.nothing'"
    assert "exactly one of above / below" in problems["rules[4]"]
    assert "teleport" in problems["rules[5]"]
    assert "greater than 0" in problems["rules[6].after_s"]
    site, _ = check_site_text(GOOD + rules.split("  - {id: r-dev")[0])
    assert site is not None
    assert [r.id for r in site.rules] == ["r-ok"]


def test_rule_files_beside_the_site_add_rules_and_their_problems_name_file_and_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "site.yaml").write_text(
        GOOD + "rules:\n  - {id: r-main, kind: equipment_fault, devices: [m1]}\n",
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a-faults.yaml").write_text(
        "- {id: r-file, kind: silence, devices: [m1], after_s: 600}\n", encoding="utf-8"
    )
    (tmp_path / "rules" / "b-night.yaml").write_text(
        "rules:\n"
        "  - {id: r-ok, kind: equipment_fault}\n"
        "  - id: r-bad\n"
        "    kind: geofence\n"
        "    fence: gf-none\n",
        encoding="utf-8",
    )
    with pytest.raises(SiteConfigError) as err:
        load_site(tmp_path / "site.yaml")
    (problem,) = err.value.problems
    assert problem.path == "rules/b-night.yaml[1].fence"
    assert problem.line == 5
    assert problem.message == "unknown geofence 'gf-none'"

    (tmp_path / "rules" / "b-night.yaml").write_text("rules:\n", encoding="utf-8")
    site = load_site(tmp_path / "site.yaml")
    assert [r.id for r in site.rules] == ["r-main", "r-file"]
    (tmp_path / "rules" / "c-dup.yaml").write_text(
        "- {id: r-main, kind: equipment_fault}\n- [not, a, rule]\n", encoding="utf-8"
    )
    with pytest.raises(SiteConfigError) as err:
        load_site(tmp_path / "site.yaml")
    paths = {p.path for p in err.value.problems}
    assert "rules/c-dup.yaml[1]" in paths
    assert any(p.startswith("rules/c-dup.yaml[0]") for p in paths), paths


def test_rule_notify_names_real_roles() -> None:
    from hub.identity.roles import Role
    from hub.site.rules import ROLE_NAMES

    assert {r.value for r in Role} == ROLE_NAMES  # the site model's copy of the role names
    problems = problems_of(
        GOOD
        + "rules:\n"
        + "  - {id: r, kind: equipment_fault, notify: [role:janitor]}\n"
        + "  - {id: s, kind: equipment_fault, notify: [user:li, boss]}\n"
    )
    assert "unknown role 'janitor'" in problems["rules[0].notify"]
    assert "should match pattern" in problems["rules[1].notify[1]"]
