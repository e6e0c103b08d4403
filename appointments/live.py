"""What the back office's live pages compare (issue 24.2): a version of the appointments of a span of time, which
changes whenever one of them changes or one moves in or out. Every change to an appointment and every arrival or
leaving of a participant writes a ledger entry (ledger.services.record, in the change's transaction), so the newest
entry's id among the span's appointments, with how many they are, is that version: one query on the ledger's index.

The pages (today's list, the calendar, the waiting room) render it, and static/appointments/live.js polls
meetings.live's endpoint, which answers it with how many people wait, under an ETag.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Max, Q, QuerySet

from appointments.models import Appointment, Status
from appointments.numbers import Minutes
from ledger.models import Entry

LONGEST_SPAN = timedelta(days=8)  # a week and its change of clocks


def in_span_or_live_now(
    appointments: QuerySet[Appointment], start: datetime, end: datetime, *, now: datetime
) -> QuerySet[Appointment]:
    """`appointments` whose time is in [start, end), and whatever its day any whose people are there now (a claimant
    waiting, a session in progress) or that has not begun and whose join window is open `now`
    (appointments.join_window, here in SQL): a claimant who waits before local midnight for an appointment just after
    it, one who may arrive any minute, one not come yet to an appointment that began before midnight, or a session
    that runs past midnight, is shown and counted with the day (the waiting room, its count of who waits, the live
    pages' version)."""
    there = Q(status__in=[Status.WAITING, Status.IN_PROGRESS])
    window_open = Q(
        status=Status.SCHEDULED,
        appointment_at__lte=now + timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE),
        window_closes_at__gte=now,
    )
    closes = F("appointment_at") + Minutes("duration_in_minutes") + timedelta(minutes=settings.JOIN_GRACE_MINUTES)
    return appointments.alias(window_closes_at=ExpressionWrapper(closes, output_field=DateTimeField())).filter(
        Q(appointment_at__gte=start, appointment_at__lt=end) | there | window_open
    )


def live_version(appointments: QuerySet[Appointment], start: datetime, end: datetime, *, now: datetime) -> str:
    """The version of `appointments` (the viewer's, already scoped) whose time is in [start, end), or that are live
    `now` (in_span_or_live_now)."""
    ids = in_span_or_live_now(appointments, start, end, now=now).order_by().values("pk")
    found = Entry.objects.filter(appointment_id__in=ids).aggregate(
        last=Max("id"), count=Count("appointment_id", distinct=True)
    )
    return f"{found['count'] or 0}.{found['last'] or 0}"
