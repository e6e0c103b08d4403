"""The appointment as an iCalendar invitation (RFC 5546): one UID for its whole life, a SEQUENCE that grows with
each reschedule and with the cancel, METHOD:CANCEL when cancelled, so calendars update the one entry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText


def uid(appointment_id: str) -> str:
    return f"appointment-{appointment_id}@{urlsplit(settings.PUBLIC_BASE_URL).hostname}"


def invitation(
    *, appointment: dict[str, Any], sequence: int, title: str, description: str, cancelled: bool, stamp: datetime
) -> bytes:
    start = datetime.fromisoformat(appointment["appointment_at"].replace("Z", "+00:00"))
    calendar = Calendar()
    calendar.add("prodid", "-//Appointments service//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid(appointment["id"]))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=appointment["duration_in_minutes"]))
    event.add("summary", title)
    event.add("description", description)
    event.add("url", appointment["url"])
    event.add("location", vText(appointment["url"]))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(appointment["department"]["name"])
    event.add("organizer", organizer)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
