"""Repair tickets: the service, dispatch, figures and QR label sheets."""

from hub.services.tickets.service import TicketService, ticket_dict

__all__ = ["TicketService", "ticket_dict"]
