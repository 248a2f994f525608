"""Response bodies of the resources the pages read: what each route gives, as the OpenAPI
document describes it. Unknown fields are errors here too: a service that starts sending a
field the schema does not describe fails its tests instead of drifting from the document.

Times are the ISO 8601 strings the services write (with their UTC offset), kept as given.
"""

from hub.api.public.alarms import (
    AlarmDetail,
    AlarmPublic,
    DryRunCount,
    DryRunPublic,
    DryRunTimelineEntry,
    RulePublic,
)
from hub.api.public.base import HistoryEntry, Out
from hub.api.public.cars import (
    FreeDriver,
    FreeVehicle,
    SettlementPublic,
    SettlementTrip,
    SettlementUnit,
    VehicleOptions,
    VehicleRequestPublic,
)
from hub.api.public.gate import (
    GateCounts,
    GateDecisionPublic,
    RosterEntry,
    VisitorPass,
    VisitorPublic,
    VisitPublic,
)
from hub.api.public.inbox import HomeItem, HomePublic, InboxCount, InboxMessagePublic
from hub.api.public.patrol import (
    Catalogue,
    CheckpointCode,
    GuardTours,
    PatrolReportPublic,
    ScanResult,
)
from hub.api.public.rooms import (
    AttendancePublic,
    BookingPublic,
    CalendarToken,
    CheckedIn,
    DoorPublic,
    DoorRoom,
    Restored,
    RoomDay,
    SeriesBooked,
    SignedIn,
    WaitlistPublic,
)
from hub.api.public.site import EnergyReportPublic, SitePublic, StoredReportPublic
from hub.api.public.tickets import (
    AssetPublic,
    CategoryPublic,
    PartUsed,
    TechnicianPublic,
    TicketDetail,
    TicketPublic,
    TicketReported,
)

__all__ = [
    "AlarmDetail",
    "AlarmPublic",
    "AssetPublic",
    "AttendancePublic",
    "BookingPublic",
    "CalendarToken",
    "Catalogue",
    "CategoryPublic",
    "CheckedIn",
    "CheckpointCode",
    "DoorPublic",
    "DoorRoom",
    "DryRunCount",
    "DryRunPublic",
    "DryRunTimelineEntry",
    "EnergyReportPublic",
    "FreeDriver",
    "FreeVehicle",
    "GateCounts",
    "GateDecisionPublic",
    "GuardTours",
    "HistoryEntry",
    "HomeItem",
    "HomePublic",
    "InboxCount",
    "InboxMessagePublic",
    "Out",
    "PartUsed",
    "PatrolReportPublic",
    "Restored",
    "RoomDay",
    "RosterEntry",
    "RulePublic",
    "ScanResult",
    "SeriesBooked",
    "SettlementPublic",
    "SettlementTrip",
    "SettlementUnit",
    "SignedIn",
    "SitePublic",
    "StoredReportPublic",
    "TechnicianPublic",
    "TicketDetail",
    "TicketPublic",
    "TicketReported",
    "VehicleOptions",
    "VehicleRequestPublic",
    "VisitPublic",
    "VisitorPass",
    "VisitorPublic",
    "WaitlistPublic",
]
