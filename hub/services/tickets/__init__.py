"""Repair tickets: the service, dispatch, figures and QR label sheets."""

from hub.services.tickets.reading import ticket_dict
from hub.services.tickets.service import TicketService

__all__ = ["TicketService", "ticket_dict"]
