"""The relational tables, one module per part of the hub; every table is importable from here
(Alembic and the services see one metadata)."""

from hub.storage.models.alarms import Alarm, AlarmLogEntry, JournalEntry, RuleStateRow
from hub.storage.models.approvals import ApprovalStep
from hub.storage.models.base import NAMING, Base, utcnow
from hub.storage.models.booking import (
    ROOM_HOLDING,
    VEHICLE_HOLDING,
    Attendance,
    Booking,
    BookingSeries,
    VehicleRequest,
    WaitlistEntry,
)
from hub.storage.models.canteen import MealOrder, MenuItem, OrderLine
from hub.storage.models.feedback import FeedbackEntry, FeedbackItem
from hub.storage.models.gate import GateDecision, PlateListEntry, Visit, Visitor
from hub.storage.models.inbox import InboxMessage
from hub.storage.models.notices import Announcement, AnnouncementReceipt
from hub.storage.models.outbox import OutboxRow
from hub.storage.models.patrol import PatrolScan, PatrolTour
from hub.storage.models.people import ApiKey, AuditEntry, SignInThrottle, User, UserRole
from hub.storage.models.permits import CredentialUse, Permit, PermitEntry, StaffPresence
from hub.storage.models.surveys import Survey, SurveyParticipant, SurveyResponse
from hub.storage.models.tickets import OPEN_TICKET, Ticket, TicketLogEntry

__all__ = [
    "NAMING",
    "OPEN_TICKET",
    "ROOM_HOLDING",
    "VEHICLE_HOLDING",
    "Alarm",
    "AlarmLogEntry",
    "Announcement",
    "AnnouncementReceipt",
    "ApiKey",
    "ApprovalStep",
    "Attendance",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingSeries",
    "CredentialUse",
    "FeedbackEntry",
    "FeedbackItem",
    "GateDecision",
    "InboxMessage",
    "JournalEntry",
    "MealOrder",
    "MenuItem",
    "OrderLine",
    "OutboxRow",
    "PatrolScan",
    "PatrolTour",
    "Permit",
    "PermitEntry",
    "PlateListEntry",
    "RuleStateRow",
    "SignInThrottle",
    "StaffPresence",
    "Survey",
    "SurveyParticipant",
    "SurveyResponse",
    "Ticket",
    "TicketLogEntry",
    "User",
    "UserRole",
    "VehicleRequest",
    "Visit",
    "Visitor",
    "WaitlistEntry",
    "utcnow",
]
