"""The accessibility statement (issue 22.4): one public page, in the page's language, linked from the footer of every
participant's page, following GOV.UK's model accessibility statement (what it covers, how accessible it is, how to
report a problem, the enforcement procedure, the compliance status and when the pages were last tested)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appointments.models import organisation_contact
from meetings.page_language import language_switch
from meetings.views import public

# When the statement's text was written (GOV.UK's "prepared on"); the last test's date is a setting.
PREPARED_ON = date(2026, 12, 4)


@public
@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponseBase:
    # No appointment is known here: the organisation's own contact details, as on a link that is not valid.
    context = {
        "contact": organisation_contact(),
        "languages": language_switch(),
        "prepared_on": PREPARED_ON,
        "tested_on": settings.ACCESSIBILITY_TESTED_ON,
    }
    return render(request, "meetings/accessibility.html", context)
