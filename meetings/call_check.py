"""The test call's answers after the device check (issue 22.5): whether the person heard the test sound, whether
they join by audio only (the meeting then starts with their camera off), and the microphone's loudest level the
live meter saw. Kept with the device check, so the verdict, the agent and the meeting read them from one place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.history import stamp
from ledger.services import Happening, about, lock_appointment, record
from meetings.browsers import Browser
from meetings.devices import CHECKING_STATES, VIDEO_MIN_KBPS, device_states, device_verdict, measured_extras
from meetings.models import Participant
from meetings.services import JourneyError, page_allows

ANSWERS = ("speaker_heard", "audio_only")


def participant_record_test_call(
    *, participant: Participant, answers: Mapping[str, Any], browser: Browser | None = None, now: datetime | None = None
) -> Participant:
    """Add the test call's answers to the device check: `speaker_heard` and `audio_only` (true or false) and
    `microphone_peak` (0 to 1), each optional, at least one. Only after a device check; given a browser, only from
    a page that shows the checks."""
    if browser is not None:
        page_allows(participant, browser, now or timezone.now(), *CHECKING_STATES)
    if participant.device_checked_at is None:
        raise JourneyError(_("Check your camera and microphone first."))
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in ANSWERS:
        if name in answers:
            if not isinstance(answers[name], bool):
                errors[name] = [f"The {name.replace('_', ' ')} field must be true or false."]
            else:
                clean[name] = answers[name]
    errors |= measured_extras({"microphone_peak": answers.get("microphone_peak")}, clean)
    if not errors and not clean:
        errors["body"] = ["Send speaker_heard, audio_only or microphone_peak."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lock_appointment(participant.appointment_id)  # the ledger's entry is written under it
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        participant.device_check = {**(locked.device_check or {}), **clean}
        stamp(participant, participant)
        participant.save(update_fields=["device_check"])
        record(
            participant.appointment_id,
            [Happening("participant.test_call", {**about(participant), **clean})],
            actor=participant,
        )
    return participant


def test_call_context(participant: Participant) -> dict[str, Any]:
    """What the device check's step shows of the test call: the verdict, the connection in words (fast enough for
    video or slow), the answers so far, and where the page times the connection first (the video platform)."""
    found = participant.device_check or {}
    kbps = found.get("downlink_kbps")
    worked = [name for name, state in device_states(participant).items() if state == "working"]
    return {
        # What the page starts by itself where the browser still allows it (static/meetings/test_call.js), and so
        # has its place from the first paint: the self-view (the camera worked), the level and the choice of devices.
        "camera": "camera" in worked,
        "live": bool(worked),
        "verdict": device_verdict(participant) or "",
        "connection": "" if kbps is None else ("fast" if kbps >= VIDEO_MIN_KBPS else "slow"),
        "speaker_heard": found.get("speaker_heard"),
        "audio_only": found.get("audio_only") is True,
        "video_base": settings.VIDEO_BASE_URL,
    }
