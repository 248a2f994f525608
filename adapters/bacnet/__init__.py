"""BACnet/IP adapter: HVAC and plant, point lists as data, RPM, COV, writes at a priority."""

from adapters.bacnet.adapter import BacnetAdapter, discover, proposal_yaml
from adapters.bacnet.client import BacnetLink
from adapters.bacnet.config import BacnetConnection, BacnetDevice, bacnet_devices, site_hook
from adapters.bacnet.points import BacnetPoint, ListError, PointList, load_list, parse_list

__all__ = [
    "BacnetAdapter",
    "BacnetConnection",
    "BacnetDevice",
    "BacnetLink",
    "BacnetPoint",
    "ListError",
    "PointList",
    "bacnet_devices",
    "discover",
    "load_list",
    "parse_list",
    "proposal_yaml",
    "site_hook",
]
