"""The register maps and BACnet point lists a site brings (YAML or CSV) fuzzed: any text, and
the shipped ones with any cell replaced, give a map or an error naming the bad rows — never
another exception."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from adapters.bacnet.points import ListError, parse_list
from adapters.modbus.points import MapError, parse_map
from tests.support.fuzz import fuzz

ROOT = Path(__file__).resolve().parents[2]
CHILLER = (ROOT / "adapters/modbus/maps/generic_chiller.csv").read_text(encoding="utf-8")
SDM630 = (ROOT / "adapters/modbus/maps/eastron_sdm630.yaml").read_text(encoding="utf-8")
AHU_LIST = (ROOT / "adapters/bacnet/lists/ahu_controller.yaml").read_text(encoding="utf-8")
FUZZ = fuzz(200)
cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0x", "0xFFFFFFFF", "-1", "1e999", "nan", "true", "float128", "|", "#"]),
)


def parse_either(text: str, *, csv_format: bool) -> None:
    """Both parsers: a table, or their own error naming the source."""
    for parse, error in ((parse_map, MapError), (parse_list, ListError)):
        message = "parsed"
        try:
            parse(text, "fuzz", csv_format=csv_format)
        except error as err:
            message = str(err)
        assert message == "parsed" or message.startswith("fuzz: ")


@FUZZ
@given(text=st.text(max_size=400), csv_format=st.booleans())
def test_any_text_gives_a_table_or_its_problems(text: str, csv_format: bool) -> None:
    parse_either(text, csv_format=csv_format)


@FUZZ
@given(row=st.integers(min_value=0, max_value=30), col=st.integers(0, 20), value=cells)
def test_the_shipped_csv_map_with_any_cell_replaced(row: int, col: int, value: str) -> None:
    lines = list(csv.reader(io.StringIO(CHILLER)))
    r = lines[row % len(lines)]
    if r:
        r[col % len(r)] = value
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    parse_either(out.getvalue(), csv_format=True)


@FUZZ
@given(line=st.integers(min_value=0, max_value=60), value=cells, which=st.booleans())
def test_the_shipped_yaml_tables_with_any_line_changed(line: int, value: str, which: bool) -> None:
    lines = (SDM630 if which else AHU_LIST).splitlines()
    i = line % len(lines)
    head, _, _ = lines[i].partition(":")
    lines[i] = f"{head}: {value}" if ":" in lines[i] else value
    parse_either("\n".join(lines), csv_format=False)
