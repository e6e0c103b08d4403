"""The appointment as an iCalendar invitation (RFC 5546), for the participant's page and the claimant's emails:
one UID for the appointment's whole life, a SEQUENCE that grows with each reschedule and with the cancel, and
METHOD:CANCEL once cancelled, so a calendar updates its one entry instead of adding another. Its words are in the
language active when it is made (the caller's: the page's, or the claimant's message's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from events.models import Event as Change
from events.models import EventType


def calendar_uid(appointment_id: Any) -> str:
    return f"appointment-{appointment_id}@{urlsplit(settings.PUBLIC_BASE_URL).hostname}"


def calendar_sequence(appointment_id: Any, up_to: int | None = None) -> int:
    """How many times the entry has changed: the appointment's reschedules and cancel (to event `up_to`)."""
    changes = Change.objects.filter(
        appointment_id=appointment_id,
        type__in=[EventType.APPOINTMENT_RESCHEDULED, EventType.APPOINTMENT_CANCELLED],
    )
    if up_to is not None:
        changes = changes.filter(sequence__lte=up_to)
    return changes.count()


def invitation(
    *,
    appointment_id: Any,
    start: datetime,
    minutes: int,
    title: str,
    link: str,
    organizer: str,
    sequence: int,
    stamp: datetime,
    cancelled: bool = False,
    description: str | None = None,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Appointments service//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", calendar_uid(appointment_id))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", title)
    event.add("description", description or gettext("Join from your link: %(link)s") % {"link": link})
    event.add("url", link)
    event.add("location", vText(link))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    address = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    address.params["cn"] = vText(organizer)
    event.add("organizer", address)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
