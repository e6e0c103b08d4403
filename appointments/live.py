"""What the back office's live pages compare (issue 24.2): a version of the appointments of a span of time, which
changes whenever one of them changes or one moves in or out. Every change to an appointment and every arrival or
leaving of a participant writes a ledger entry (ledger.services.record, in the change's transaction), so the newest
entry's id among the span's appointments, with how many they are, is that version: one query on the ledger's index.

The pages (today's list, the calendar, the waiting room) render it, and static/appointments/live.js polls
meetings.live's endpoint, which answers it with how many people wait, under an ETag.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Max, QuerySet

from appointments.models import Appointment
from ledger.models import Entry

LONGEST_SPAN = timedelta(days=8)  # a week and its change of clocks


def live_version(appointments: QuerySet[Appointment], start: datetime, end: datetime) -> str:
    """The version of `appointments` (the viewer's, already scoped) whose time is in [start, end)."""
    ids = appointments.filter(appointment_at__gte=start, appointment_at__lt=end).order_by().values("pk")
    found = Entry.objects.filter(appointment_id__in=ids).aggregate(
        last=Max("id"), count=Count("appointment_id", distinct=True)
    )
    return f"{found['count'] or 0}.{found['last'] or 0}"
