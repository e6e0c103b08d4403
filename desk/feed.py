"""A staff member's own calendar feed (issue 24.6): an iCalendar file of the appointments they are given, at a
private address a calendar application subscribes to. The address carries a random secret, of which only the
SHA-256 digest is kept (as the API's tokens), so it is shown once, when made or rotated; rotating makes the old
address answer 404, and so does leaving (config.leaving) or an inactive account.

The minimum of personal data: the claimant's initials, or their name where the department allows it
(Department.calendar_feed_shows_names, ticked on the department's page); no contact details, no link of the
claimant's. Each event is written in its department's zone with that zone's VTIMEZONE, so a calendar shows 09:00 as
09:00 on both sides of a change of clocks.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from appointments.models import Appointment, Status
from desk.models import CalendarFeed

# What the feed covers: the recent past (a day looked back on) and what is booked ahead.
FEED_DAYS_BEFORE = 30
FEED_DAYS_AFTER = 366


def _digest(secret: str) -> str:
    # The secret is 32 random bytes: a plain digest is enough (nothing to guess), as knox keeps the API's tokens.
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_issue(*, user: User) -> str:
    """Make the user's feed, or rotate its secret (the old address stops working at once); returns the new
    secret, which is kept nowhere."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            user_id=user.pk, defaults={"digest": _digest(secret), "created_at": timezone.now()}
        )
    return secret


def feed_revoke(*, user: User) -> int:
    """Turn the user's feed off (the address answers 404); returns how many were (0 or 1)."""
    deleted, _ = CalendarFeed.objects.filter(user_id=user.pk).delete()
    return deleted


def feeds_end(user: User) -> int:
    """A leaver's feed ends with their deactivation (config.leaving, in its transaction)."""
    return feed_revoke(user=user)


def feed_address(secret: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("desk:calendar_feed", args=[secret])


def feed_owner(secret: str) -> User | None:
    """The active staff member whose feed has this secret, or None (unknown, rotated, revoked, or left)."""
    feed = (
        CalendarFeed.objects.filter(digest=_digest(secret), user__is_active=True)
        .select_related("user")
        .only("user__id", "user__is_active")
        .first()
    )
    return feed.user if feed is not None else None


def initials(name: str | None) -> str:
    """ "Winifred Quaintance" -> "W. Q."; nothing for an erased name."""
    return " ".join(f"{part[0].upper()}." for part in (name or "").split() if part[0].isalpha())


def _written(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` as the event writes it: in the department's zone (TZID), except the second reading of the hour the
    clocks go back (01:30 GMT on the last Sunday of October in London), which RFC 5545 would read as the first
    (01:30 BST, an hour early): that one is written in UTC, the same moment."""
    local = moment.astimezone(zone)
    if local.replace(fold=0).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def _feed_appointments(user: User, now: datetime) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            agent_id=user.pk,
            appointment_at__gte=now - timedelta(days=FEED_DAYS_BEFORE),
            appointment_at__lt=now + timedelta(days=FEED_DAYS_AFTER),
        )
        .exclude(status=Status.CANCELLED)
        .select_related("department", "claimant")
        .only(
            "id",
            "reference",
            "appointment_at",
            "duration_in_minutes",
            "status",
            "updated_at",
            "department__name",
            "department__time_zone",
            "department__calendar_feed_shows_names",
            "claimant__name",
        )
        .order_by("appointment_at", "id")
    )


def feed_calendar(user: User, now: datetime | None = None) -> bytes:
    """The user's feed as iCalendar (RFC 5545): one event per appointment given to them that is not cancelled,
    from FEED_DAYS_BEFORE days ago to FEED_DAYS_AFTER days ahead, in one query."""
    now = now or timezone.now()
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname
    calendar = Calendar()
    calendar.add("prodid", "-//Appointments service//Staff calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "My appointments")
    for appointment in _feed_appointments(user, now):
        department = appointment.department
        zone = ZoneInfo(department.time_zone)
        name = (
            appointment.claimant.name if department.calendar_feed_shows_names else initials(appointment.claimant.name)
        )
        event = Event()
        event.add("uid", f"staff-appointment-{appointment.pk}@{host}")
        event.add("dtstamp", now)
        event.add("last-modified", appointment.updated_at)
        event.add("dtstart", _written(appointment.appointment_at, zone))
        event.add("dtend", _written(appointment.ends_at, zone))
        event.add("summary", f"Appointment with {name}" if name else "Appointment")
        event.add(
            "description",
            f"Reference {appointment.reference}, {department.name}. Status: {Status(appointment.status).label}.",
        )
        event.add(
            "url",
            settings.PUBLIC_BASE_URL.rstrip("/")
            + reverse("admin:appointments_appointment_change", args=[appointment.pk]),
        )
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    # Each zone the events use, with its rules (BST and GMT for Europe/London), so a calendar need not guess.
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
