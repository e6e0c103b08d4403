"""The back office's one live mechanism (issue 24.2): today's list, the calendar and the waiting room poll this small
endpoint (static/appointments/live.js) and fetch their own rows again only when its version changed; it also says
how many people wait (the tab's title) and how many of them wait for the viewer's own appointments (the optional
sound). An unchanged answer is a 304 on its ETag, as the claimant's status poll is.

The version is appointments.live's (the newest ledger entry among the span's appointments, which every change and
every arrival or leaving writes); the span is the page's (`start`, `end`: the calendar's day or week), else the
viewer's today. The counts are today's, as the waiting room's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone

from appointments.live import LONGEST_SPAN, in_span_or_live_now, live_version
from appointments.local_time import local_day, staff_zone
from appointments.models import Appointment, Status
from meetings.models import ADMITTED_ONE_BY_ONE, Participant, Role


def waiting_counts(
    appointments: QuerySet[Appointment], start: datetime, end: datetime, user: object, *, now: datetime
) -> dict[str, int]:
    """Who waits for staff among `appointments` in [start, end) or live `now`, as the waiting room counts them
    (meetings.waiting_room.waiting_count: still waiting, for the start or to be let in), and how many of those wait
    for the viewer's own appointments; one query."""
    waiting = (
        Q(joined_waiting_at__isnull=False, left_at__isnull=True, revoked_at__isnull=True)
        & ~Q(role=Role.AGENT)
        & (
            Q(appointment__status__in=[Status.SCHEDULED, Status.WAITING])
            | Q(appointment__status=Status.IN_PROGRESS, admitted_at__isnull=True, role__in=list(ADMITTED_ONE_BY_ONE))
        )
    )
    ids = in_span_or_live_now(appointments, start, end, now=now).order_by().values("pk")
    return Participant.objects.filter(waiting, appointment_id__in=ids).aggregate(
        waiting=Count("pk"), mine=Count("pk", filter=Q(appointment__agent_id=getattr(user, "pk", None)))
    )


def _span(request: HttpRequest, today: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    try:
        start = datetime.fromisoformat(request.GET["start"])
        end = datetime.fromisoformat(request.GET["end"])
    except (KeyError, ValueError):
        return today
    if start.tzinfo is None or end.tzinfo is None or not timedelta(0) < end - start <= LONGEST_SPAN:
        return today
    return start, end


def live(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    appointments = model_admin.get_queryset(request)
    now = timezone.now()
    today = local_day(now, staff_zone(request.user))
    start, end = _span(request, today)
    counts = waiting_counts(appointments, *today, request.user, now=now)
    version = live_version(appointments, start, end, now=now)
    body = json.dumps({"version": version, "waiting": counts["waiting"], "mine": counts["mine"]}, separators=(",", ":"))
    etag = f'"{hashlib.sha256(body.encode()).hexdigest()[:32]}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response
