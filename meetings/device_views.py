"""The device check's requests from a participant's page (meetings.views' guards: rate limit, one plain 404, CSRF,
JSON in and out): the download the connection is timed against, and the check's results."""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from meetings.browsers import Browser
from meetings.call_check import participant_record_test_call
from meetings.devices import participant_record_device_check
from meetings.models import Participant
from meetings.views import _json_body, _participant, _posted, _state_response, public

# A fixed-size asset for the downlink estimate: random bytes, so no compression makes it smaller on the wire.
SPEED_TEST_BYTES = 256 * 1024
_SPEED_TEST_BODY = os.urandom(SPEED_TEST_BYTES)


@public
@require_GET
def speed_test(request: HttpRequest, token: str) -> HttpResponseBase:
    _participant(request, token)
    return HttpResponse(_SPEED_TEST_BODY, content_type="application/octet-stream")


@_posted
def device_check(request: HttpRequest, participant: Participant, browser: Browser) -> JsonResponse:
    participant_record_device_check(participant=participant, results=_json_body(request), browser=browser)
    return _state_response(participant, browser)


@_posted
def test_call(request: HttpRequest, participant: Participant, browser: Browser) -> JsonResponse:
    participant_record_test_call(participant=participant, answers=_json_body(request), browser=browser)
    return _state_response(participant, browser)
