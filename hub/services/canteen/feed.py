"""The menu as an OpenMensa feed (version 2.1): the open XML format canteen apps and
dashboards read — per day, categories (the meal, and the kind of dish) of meals with notes
(allergens) and prices (for staff: `role="employee"`). Days with nothing published are left
out (the feed says nothing of them rather than "closed")."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from xml.etree import ElementTree as ET

from hub.site.canteen import Canteen

NS = "http://openmensa.org/open-mensa-v2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CATEGORY_NAMES = {
    "staple": "主食",
    "dish": "菜品",
    "soup": "汤",
    "noodles": "面食",
    "pastry": "面点",
    "fruit": "水果",
    "drink": "饮品",
    "takeaway": "外卖",
    "other": "其他",
}


def openmensa(canteen: Canteen, items: list[dict[str, Any]]) -> bytes:
    """The feed of these items (a week's menu)."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(
        f"{{{NS}}}openmensa",
        {
            "version": "2.1",
            f"{{{XSI}}}schemaLocation": f"{NS} http://openmensa.org/open-mensa-v2.xsd",
        },
    )
    c = ET.SubElement(root, f"{{{NS}}}canteen")
    meals = {m.id: m for m in canteen.meals}
    days: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for i in items:
        if i["status"] == "withdrawn":
            continue
        meal = meals.get(i["meal"])
        kind = CATEGORY_NAMES.get(i["category"], i["category"])
        category = f"{meal.name if meal else i['meal']} · {kind}"
        days[i["day"]][category].append(i)
    for day in sorted(days):
        d = ET.SubElement(c, f"{{{NS}}}day", {"date": day})
        for category, dishes in days[day].items():
            cat = ET.SubElement(d, f"{{{NS}}}category", {"name": category[:250]})
            for i in dishes:
                m = ET.SubElement(cat, f"{{{NS}}}meal")
                ET.SubElement(m, f"{{{NS}}}name").text = i["name"][:250]
                for allergen in i["allergens"]:
                    ET.SubElement(m, f"{{{NS}}}note").text = f"含{allergen}"[:250]
                if i["status"] == "sold_out":
                    ET.SubElement(m, f"{{{NS}}}note").text = "已售罄"
                ET.SubElement(m, f"{{{NS}}}price", {"role": "employee"}).text = f"{i['price']:.2f}"
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
