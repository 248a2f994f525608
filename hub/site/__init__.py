"""The site model: the compound's buildings, zones, people, devices and services, from YAML."""

from hub.site import canteen as _canteen  # noqa: F401  (registers its section)
from hub.site import energy as _energy  # noqa: F401  (registers its section)
from hub.site import feedback as _feedback  # noqa: F401  (registers its section)
from hub.site import maintenance as _maintenance  # noqa: F401  (registers its sections)
from hub.site import permits as _permits  # noqa: F401  (registers its section)
from hub.site import rules as _rules  # noqa: F401  (registers the rules section)
from hub.site.loader import SiteConfigError, SiteProblem, check_site_text, load_site
from hub.site.model import SECTIONS, Device, Point, Site

__all__ = [
    "SECTIONS",
    "Device",
    "Point",
    "Site",
    "SiteConfigError",
    "SiteProblem",
    "check_site_text",
    "load_site",
]
