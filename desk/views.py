"""The calendar feed's public address (issue 24.6): no sign-in (a calendar application fetches it), the secret in
the path is the only key. Anything but a live feed's secret is the same 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from desk.feed import feed_calendar, feed_owner


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    user = feed_owner(token)
    if user is None:
        raise Http404
    response = HttpResponse(feed_calendar(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
