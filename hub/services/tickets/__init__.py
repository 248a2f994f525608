"""Repair tickets: the service, dispatch, figures and QR label sheets; assembled for the hub
by `assemble`."""

from __future__ import annotations

from datetime import timedelta

from hub.services.alarms import AlarmService
from hub.services.assembly import Part, Shared
from hub.services.tickets.jobs import TicketJobs
from hub.services.tickets.reading import ticket_dict
from hub.services.tickets.service import TicketService

__all__ = ["TicketJobs", "TicketService", "assemble", "ticket_dict"]


def assemble(shared: Shared, alarms: AlarmService) -> Part[TicketService]:
    """The ticket service; its job applies the alarm changes the alarm book owes it (woken by
    the book after each commit) and watches the SLA targets."""
    t = shared.settings.tickets
    tickets = TicketService(
        shared.db,
        shared.site,
        photos=shared.settings.files_dir / "photos",
        notify=shared.announce,
        alarms=alarms,
        close_on_clear=t.close_on_clear,
        rating_reminder=timedelta(hours=t.rating_reminder_h),
    )
    jobs = TicketJobs(tickets, t.sweep_s)
    alarms.on_outbox = jobs.poke
    return Part(tickets, singletons=[jobs])
