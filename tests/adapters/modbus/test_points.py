"""Register maps as data: shipped maps load; broken maps name the row to fix."""

from __future__ import annotations

import pytest

from adapters.modbus.points import BUILTIN_MAPS, MapError, load_map, parse_map


@pytest.mark.parametrize("name", sorted(p.stem for p in BUILTIN_MAPS.glob("*.*")))
def test_shipped_maps_load(name: str) -> None:
    m = load_map(name)
    assert m.points
    assert len({p.id for p in m.points}) == len(m.points)


def test_a_broken_csv_map_names_each_bad_line() -> None:
    text = (
        "# name: test meter\n"
        "# max_block: 50\n"
        "id,table,address,type,bit,unit,writable\n"
        "ok,holding,0,uint16,,V,\n"
        "bad_type,holding,1,uint17,,V,\n"
        "no_bit,holding,2,bit,,,\n"
        "bad_addr,holding,70000,uint16,,,\n"
        "ro,input,3,uint16,,,true\n"
        "ok,holding,4,uint16,,,\n"
    )
    with pytest.raises(MapError) as err:
        parse_map(text, "test.csv", csv_format=True)
    found = {p.where: p.message for p in err.value.problems}
    assert "type" in found["line 5"]
    assert "bit" in found["line 6"]
    assert "address" in found["line 7"]
    assert "read-only" in found["line 8"]
    assert "duplicate point id 'ok'" in found["line 9"]


def test_a_broken_yaml_map_names_the_point() -> None:
    text = "name: x\npoints:\n  - {id: a, address: 0, type: float32}\n  - {id: b, address: 1}\n"
    with pytest.raises(MapError) as err:
        parse_map(text, "x.yaml")
    assert any("overlaps 'a'" in p.message for p in err.value.problems)


def test_unknown_maps_list_the_built_in_ones() -> None:
    with pytest.raises(MapError, match="eastron_sdm630"):
        load_map("no_such_meter")
