"""Load and check a site file, reporting every problem at once with its path and line."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hub.site.base import Item
from hub.site.model import SECTIONS, Device, Site, SiteInfo

Loc = tuple[str | int, ...]

# A protocol's check of a device (connection, register map) that may also complete it (points
# from the map). Problems are (path inside the device, message). Adapters provide these;
# the composition root passes them in, so the site model imports no adapter.
DeviceHook = Callable[[Device, Path | None], tuple[Device, list[tuple[Loc, str]]]]

# Discriminator tags pydantic puts into error locations; they are not part of the file's path.
_UNION_TAGS = {
    "Polygon",
    "MultiPolygon",
    "Circle",
    "equipment_fault",
    "geofence",
    "threshold",
    "silence",
    "missed_patrol",
    "lone_worker",
    "vehicle_use",
}


@dataclass(frozen=True, slots=True)
class SiteProblem:
    """One problem in a site file."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path}{where}: {self.message}"


class SiteConfigError(Exception):
    """The site file has problems; `problems` lists all of them."""

    def __init__(self, source: str, problems: list[SiteProblem]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{listing}")


def format_loc(loc: Iterable[str | int]) -> str:
    """('devices', 3, 'points', 7, 'address') -> 'devices[3].points[7].address'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS:
            continue
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _message(error: Mapping[str, Any]) -> str:
    kind, msg = error["type"], str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    return msg.removeprefix("Value error, ")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys."""


def _parse(text: str) -> tuple[Any, dict[Loc, int], list[SiteProblem]]:
    """YAML text -> (data, line of each path, duplicate-key problems)."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        problems: list[SiteProblem] = []
        if node is None:
            return None, lines, problems

        def walk(n: yaml.Node, loc: Loc) -> None:
            lines[loc] = n.start_mark.line + 1
            if isinstance(n, yaml.MappingNode):
                seen: set[Any] = set()
                for key_node, value_node in n.value:
                    key = key_node.value
                    if key in seen:
                        problems.append(
                            SiteProblem(
                                format_loc((*loc, key)),
                                "duplicate key",
                                key_node.start_mark.line + 1,
                            )
                        )
                    seen.add(key)
                    walk(value_node, (*loc, key))
            elif isinstance(n, yaml.SequenceNode):
                for i, child in enumerate(n.value):
                    walk(child, (*loc, i))

        walk(node, ())
        data = loader.construct_document(node)
        return data, lines, problems
    finally:
        loader.dispose()


def _line_of(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    # The deepest known ancestor: a missing key is reported at its parent's line.
    for cut in range(len(loc), -1, -1):
        line = lines.get(tuple(loc[:cut]))
        if line is not None:
            return line
    return None


def _validate(
    model: type[BaseModel], data: Any, loc: Loc, lines: Mapping[Loc, int]
) -> tuple[BaseModel | None, list[SiteProblem]]:
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        problems = []
        for e in err.errors():
            full = (*loc, *e["loc"])
            # a discriminated union puts its tag in the path; the YAML has no such level
            in_yaml = tuple(p for p in full if not (isinstance(p, str) and p in _UNION_TAGS))
            problems.append(SiteProblem(format_loc(full), _message(e), _line_of(lines, in_yaml)))
        return None, problems


def _known_ids(section_data: Any) -> list[str]:
    """Ids of a section's raw items, valid or not (so one bad item doesn't cascade)."""
    if not isinstance(section_data, list):
        return []
    return [i["id"] for i in section_data if isinstance(i, dict) and isinstance(i.get("id"), str)]


def check_site_data(
    data: Any,
    lines: Mapping[Loc, int] | None = None,
    base_dir: Path | None = None,
    device_hooks: Mapping[str, DeviceHook] | None = None,
) -> tuple[Site | None, list[SiteProblem]]:
    """Validate parsed site data; returns the site (when there are no problems) and problems."""
    lines = lines or {}
    problems: list[SiteProblem] = []
    if not isinstance(data, dict):
        return None, [SiteProblem("(top level)", "must be a mapping of sections", 1)]

    for key in data:
        if key != "site" and key not in SECTIONS:
            names = ", ".join(["site", *SECTIONS])
            problems.append(
                SiteProblem(str(key), f"unknown section (known: {names})", _line_of(lines, (key,)))
            )

    info, info_problems = _validate(SiteInfo, data.get("site"), ("site",), lines)
    problems += info_problems

    items: dict[str, list[Item]] = {}
    known: dict[str, set[str]] = {}
    # Items that failed validation still have their references checked, so that one pass
    # reports everything.
    invalid_refs: list[tuple[str, int, Item | None]] = []
    for name, model in SECTIONS.items():
        raw = data.get(name)
        raw = [] if raw is None else raw
        known[name] = set(_known_ids(raw))
        if not isinstance(raw, list):
            problems.append(SiteProblem(name, "must be a list", _line_of(lines, (name,))))
            items[name] = []
            continue
        good: list[Item] = []
        for i, raw_item in enumerate(raw):
            item, item_problems = _validate(model, raw_item, (name, i), lines)
            problems += item_problems
            if isinstance(item, Item):
                good.append(item)
            elif isinstance(raw_item, dict):
                invalid_refs.append((name, i, _unvalidated(model, raw_item)))
        items[name] = good
        for dup, n in Counter(_known_ids(raw)).items():
            if n > 1:
                first = [i for i, x in enumerate(raw) if isinstance(x, dict) and x.get("id") == dup]
                for i in first[1:]:
                    problems.append(
                        SiteProblem(
                            f"{name}[{i}].id",
                            f"duplicate id {dup!r} (first at {name}[{first[0]}])",
                            _line_of(lines, (name, i, "id")),
                        )
                    )

    known["floors"] = {  # from whatever is well-formed: the rest is reported already
        f"{b['id']}/{f['id']}"
        for b in _list(data.get("buildings"))
        if isinstance(b, dict) and "id" in b
        for f in _list(b.get("floors"))
        if isinstance(f, dict) and "id" in f
    }
    if device_hooks:
        problems += _run_device_hooks(items, data, lines, base_dir, device_hooks)
    # points are known once the hooks have completed each device from its map
    known["points"] = {f"{d.id}.{p.id}" for d in items["devices"] for p in getattr(d, "points", [])}
    problems += _check_references(items, known, data, lines)
    for name, idx, shell in invalid_refs:
        problems += _item_ref_problems(name, idx, shell, known, lines)
    problems += _check_uniques(items, data, lines)
    if base_dir is not None:
        problems += _check_files(items, base_dir, data, lines)

    if problems or not isinstance(info, SiteInfo):
        return None, problems
    fields: dict[str, Any] = {"site": info, **items}
    return Site.model_construct(**fields), []


def _index_of(data: Mapping[str, Any], section: str, item_id: str) -> int:
    raw = data.get(section) or []
    return next(i for i, x in enumerate(raw) if isinstance(x, dict) and x.get("id") == item_id)


def _run_device_hooks(
    items: dict[str, list[Item]],
    data: Mapping[str, Any],
    lines: Mapping[Loc, int],
    base_dir: Path | None,
    hooks: Mapping[str, DeviceHook],
) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    devices: list[Item] = []
    for device in items["devices"]:
        assert isinstance(device, Device)
        hook = hooks.get(device.protocol.value)
        if hook is not None:
            idx = _index_of(data, "devices", device.id)
            device, found = hook(device, base_dir)
            for rel, message in found:
                loc = ("devices", idx, *rel)
                problems.append(SiteProblem(format_loc(loc), message, _line_of(lines, loc)))
        devices.append(device)
    items["devices"] = devices
    return problems


def _list(value: Any) -> list[Any]:
    """`value` if it is a list, else nothing (its own problem is reported elsewhere)."""
    return value if isinstance(value, list) else []


def _unvalidated(model: type[Item], raw: dict[str, Any]) -> Item | None:
    """An item built without validation, only to read its references; None if that fails."""
    try:
        return model.model_construct(**{k: v for k, v in raw.items() if k in model.model_fields})
    except Exception:  # a shape model_construct can't take: skip its references
        return None


_SINGULAR = {"floors": "floor", "people": "person"}


def _item_ref_problems(
    section: str, idx: int, item: Item | None, known: Mapping[str, set[str]], lines: Any
) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    if item is None:
        return problems
    try:
        refs = list(item.refs())
    except Exception:  # unvalidated values of the wrong type
        return problems
    for field, target, ref in refs:
        if isinstance(ref, str) and ref not in known[target]:
            what = _SINGULAR.get(target, target.rstrip("s").replace("_", " "))
            line = _line_of(lines, (section, idx, field.split("[")[0]))
            problems.append(
                SiteProblem(f"{section}[{idx}].{field}", f"unknown {what} {ref!r}", line)
            )
    return problems


def _check_references(
    items: Mapping[str, list[Item]],
    known: Mapping[str, set[str]],
    data: Mapping[str, Any],
    lines: Mapping[Loc, int],
) -> list[SiteProblem]:
    problems = []
    for name, section_items in items.items():
        for item in section_items:
            problems += _item_ref_problems(name, _index_of(data, name, item.id), item, known, lines)
    return problems


def _check_uniques(
    items: Mapping[str, list[Item]], data: Mapping[str, Any], lines: Mapping[Loc, int]
) -> list[SiteProblem]:
    """Things that must be unique across items: badges, plates, trackers, floors, points."""
    problems = []

    def once(section: str, field: str, values: Iterable[tuple[Item, str]]) -> None:
        seen: dict[str, str] = {}
        for item, value in values:
            if value in seen and seen[value] != item.id:
                idx = _index_of(data, section, item.id)
                problems.append(
                    SiteProblem(
                        f"{section}[{idx}].{field}",
                        f"{value!r} is already used by {seen[value]!r}",
                        _line_of(lines, (section, idx, field)),
                    )
                )
            seen.setdefault(value, item.id)

    once("people", "badges", ((p, b) for p in items["people"] for b in getattr(p, "badges", [])))
    once("people", "phones", ((p, b) for p in items["people"] for b in getattr(p, "phones", [])))
    once("vehicles", "plate", ((v, getattr(v, "plate", "")) for v in items["vehicles"]))
    once(
        "vehicles",
        "tracker",
        ((v, t) for v in items["vehicles"] if (t := getattr(v, "tracker", None))),
    )
    for section, field in (("buildings", "floors"), ("devices", "points")):
        for item in items[section]:
            counts = Counter(child.id for child in getattr(item, field))
            for child_id, n in counts.items():
                if n > 1:
                    idx = _index_of(data, section, item.id)
                    problems.append(
                        SiteProblem(
                            f"{section}[{idx}].{field}",
                            f"duplicate id {child_id!r}",
                            _line_of(lines, (section, idx, field)),
                        )
                    )
    return problems


def _check_files(
    items: Mapping[str, list[Item]], base_dir: Path, data: Mapping[str, Any], lines: Any
) -> list[SiteProblem]:
    problems = []
    for building in items["buildings"]:
        for fi, floor in enumerate(getattr(building, "floors", [])):
            if floor.plan and not (base_dir / floor.plan.image).is_file():
                idx = _index_of(data, "buildings", building.id)
                loc = ("buildings", idx, "floors", fi, "plan", "image")
                problems.append(
                    SiteProblem(
                        format_loc(loc),
                        f"image file {floor.plan.image!r} not found next to the site file",
                        _line_of(lines, loc),
                    )
                )
    return problems


def _yaml_problem(err: yaml.YAMLError, path: str) -> SiteProblem:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    return SiteProblem(path, f"not valid YAML: {err}", line)


def check_site_text(
    text: str,
    base_dir: Path | None = None,
    device_hooks: Mapping[str, DeviceHook] | None = None,
    rule_files: Sequence[Path] = (),
) -> tuple[Site | None, list[SiteProblem]]:
    """Parse and validate site YAML text (and rule files that add to its `rules`)."""
    try:
        data, lines, problems = _parse(text)
    except yaml.YAMLError as err:
        return None, [_yaml_problem(err, "(yaml)")]
    origins: dict[int, tuple[str, int]] = {}
    if rule_files and isinstance(data, dict):
        problems += _merge_rule_files(data, lines, rule_files, origins)
    site, more = check_site_data(data, lines, base_dir, device_hooks)
    problems += [_from_rule_file(p, origins) for p in more]
    return (site if not problems else None), problems


def _merge_rule_files(
    data: dict[str, Any],
    lines: dict[Loc, int],
    files: Sequence[Path],
    origins: dict[int, tuple[str, int]],
) -> list[SiteProblem]:
    """Append each file's rules (a list, or a mapping with `rules`) to the site's, noting
    where each came from so problems name the file and its line."""
    problems: list[SiteProblem] = []
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        return problems  # the section's own problem is reported by the check
    for f in files:
        name = f"rules/{f.name}"
        try:
            fdata, flines, fproblems = _parse(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            problems.append(SiteProblem(name, f"cannot read: {err}"))
            continue
        except yaml.YAMLError as err:
            problems.append(_yaml_problem(err, name))
            continue
        problems += [dataclasses.replace(p, path=f"{name}: {p.path}") for p in fproblems]
        prefix: Loc = ()
        items = fdata
        if isinstance(fdata, dict) and "rules" in fdata:
            items, prefix = fdata["rules"], ("rules",)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(SiteProblem(name, "must be a list of rules (or `rules:` and a list)"))
            continue
        for j, item in enumerate(items):
            i = len(rules)
            rules.append(item)
            origins[i] = (name, j)
            n = len(prefix)
            for loc, line in flines.items():
                if loc[:n] == prefix and len(loc) > n and loc[n] == j:
                    lines[("rules", i, *loc[n + 1 :])] = line
    data["rules"] = rules
    return problems


def _from_rule_file(p: SiteProblem, origins: Mapping[int, tuple[str, int]]) -> SiteProblem:
    """A problem of a rule that came from a rule file, named by that file."""
    m = re.match(r"^rules\[(\d+)\](.*)$", p.path)
    if not m or int(m.group(1)) not in origins:
        return p
    name, j = origins[int(m.group(1))]
    return dataclasses.replace(p, path=f"{name}[{j}]{m.group(2)}")


def rule_files(site_file: Path) -> list[Path]:
    """The rule files beside a site file: `rules/*.yaml` (and `.yml`), in name order."""
    folder = site_file.parent / "rules"
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_site(path: str | Path, device_hooks: Mapping[str, DeviceHook] | None = None) -> Site:
    """Load a site file (and the rule files in `rules/` beside it) or raise SiteConfigError
    listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SiteConfigError(str(p), [SiteProblem("(file)", f"cannot read: {err}")]) from err
    site, problems = check_site_text(text, p.parent, device_hooks, rule_files(p))
    if site is None:
        raise SiteConfigError(str(p), problems)
    return site


def check_rules_text(text: str, site: Site) -> tuple[list[Item], list[SiteProblem]]:
    """Rules YAML (a list, or `rules:` and a list) checked against a loaded site, as for a
    dry run: every problem, with its line."""
    try:
        data, raw_lines, problems = _parse(text)
    except yaml.YAMLError as err:
        return [], [_yaml_problem(err, "(yaml)")]
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
        lines = dict(raw_lines)
    else:
        lines = {("rules", *loc): line for loc, line in raw_lines.items()}
    if not isinstance(data, list):
        return [], [*problems, SiteProblem("rules", "must be a list of rules", 1)]
    known = {name: {i.id for i in site.section(name)} for name in SECTIONS if name != "rules"}
    known["rules"] = set(_known_ids(data))
    known["points"] = set(site.point_ids())
    known["floors"] = {f"{b.id}/{f.id}" for b in site.buildings for f in b.floors}
    rules: list[Item] = []
    for i, raw in enumerate(data):
        item, item_problems = _validate(SECTIONS["rules"], raw, ("rules", i), lines)
        problems += item_problems
        if isinstance(item, Item):
            problems += _item_ref_problems("rules", i, item, known, lines)
            rules.append(item)
    for dup, n in Counter(_known_ids(data)).items():
        if n > 1:
            problems.append(SiteProblem("rules", f"duplicate id {dup!r}"))
    return (rules if not problems else []), problems
