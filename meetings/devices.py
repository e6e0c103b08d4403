"""The device check on a participant's page: camera and microphone permission (and why one failed), and a
downlink estimate; what the page, the meeting's settings and the agent make of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from config.history import stamp
from events.models import EventType
from events.services import events_record, participant_event
from ledger.services import Happening, lock_appointment
from meetings.browsers import Browser
from meetings.models import Participant
from meetings.services import PageState, page_allows

DOWNLINK_MAX_KBPS = 10_000_000
# Where the device check may be done: early too (to be ready), and again while waiting or in the meeting.
CHECKING_STATES = (PageState.EARLY, PageState.CHECKS, PageState.WAITING, PageState.MEETING)
# Why a camera or microphone failed the check: the visitor (or their device) refused access, there is none, or it
# could not start (another program holds it). The page tells each apart, with help for a refused one.
DEVICE_PROBLEMS = ("blocked", "missing", "unavailable")


def participant_record_device_check(
    *, participant: Participant, results: Mapping[str, Any], browser: Browser | None = None, now: datetime | None = None
) -> Participant:
    """Keep what the page measured: camera and microphone permission, and a downlink estimate in kbit/s.

    A failed check does not block joining (a claimant may join by audio alone); the agent sees the result. Given a
    browser, only one whose page shows the checks may record them (not one the link was taken from).
    """
    if browser is not None:
        page_allows(participant, browser, now or timezone.now(), *CHECKING_STATES)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in ("camera", "microphone"):
        value = results.get(name)
        if not isinstance(value, bool):
            errors[name] = [f"The {name} field must be true or false."]
        clean[name] = value
    downlink = results.get("downlink_kbps")
    if downlink is not None and (
        isinstance(downlink, bool) or not isinstance(downlink, int | float) or not 0 <= downlink <= DOWNLINK_MAX_KBPS
    ):
        errors["downlink_kbps"] = [f"The downlink kbps field must be a number from 0 to {DOWNLINK_MAX_KBPS}."]
    clean["downlink_kbps"] = None if downlink is None or "downlink_kbps" in errors else round(float(downlink))
    errors |= measured_extras(results, clean)
    for name in ("camera", "microphone"):
        problem = results.get(f"{name}_problem")
        if problem is None:
            continue  # absent where nothing failed, or from a page that does not say why
        if problem not in DEVICE_PROBLEMS or clean[name] is not False:
            why = f"The {name} problem must be blocked, missing or unavailable, and only when the {name} failed."
            errors[f"{name}_problem"] = [why]
        else:
            clean[f"{name}_problem"] = problem
    if errors:
        raise ValidationError(errors)
    participant.device_check = clean
    participant.device_checked_at = timezone.now()
    stamp(participant, participant)
    with transaction.atomic():
        lock_appointment(participant.appointment_id)  # the ledger's entries are written under it
        participant.save(update_fields=["device_check", "device_checked_at"])
        checked = EventType.PARTICIPANT_DEVICE_CHECKED
        events_record(
            appointment=participant.appointment,
            events=[participant_event(participant, checked)],
            actor=participant,
            details={checked: Happening(checked, {"result": clean})},
        )
    return participant


# Where the connection was timed: the video platform's host when the page could reach it, else this service.
CONNECTION_TARGETS = ("video", "service")


def measured_extras(results: Mapping[str, Any], clean: dict[str, Any]) -> dict[str, list[str]]:
    """The optional measurements of the test call (issue 22.5): the microphone's loudest level (0 to 1) and where
    the connection was timed; kept in `clean` when valid, else their errors."""
    errors: dict[str, list[str]] = {}
    peak = results.get("microphone_peak")
    if peak is not None:
        if isinstance(peak, bool) or not isinstance(peak, int | float) or not 0 <= peak <= 1:
            errors["microphone_peak"] = ["The microphone peak field must be a number from 0 to 1."]
        else:
            clean["microphone_peak"] = round(float(peak), 3)
    target = results.get("connection_to")
    if target is not None:
        if target not in CONNECTION_TARGETS:
            errors["connection_to"] = ["The connection to field must be video or service."]
        else:
            clean["connection_to"] = target
    return errors


def device_states(participant: Participant) -> dict[str, str]:
    """How the camera and the microphone came out of the device check: working, one of DEVICE_PROBLEMS
    ("unavailable" for a failure recorded without its reason), or "" when not checked yet."""
    found = participant.device_check or {}
    states = {}
    for name in ("camera", "microphone"):
        if participant.device_checked_at is None or name not in found:
            states[name] = ""
        elif found[name]:
            states[name] = "working"
        else:
            states[name] = found.get(f"{name}_problem") or "unavailable"
    return states


# The download speed (kbit/s) below which video is likely to stall: the embedded meeting's lowest resolution (360p)
# needs about this much, with room for the audio and the other side.
VIDEO_MIN_KBPS = 1000


class Verdict(StrEnum):
    """The device check's plain verdict (issue 22.5), instead of numbers."""

    GOOD = "good"  # camera, microphone, speakers and connection fit for video
    AUDIO_ONLY = "audio_only"  # the microphone works, but the camera does not or the connection is slow
    NOT_WORKING = "not_working"  # no microphone, sound not heard, or the camera blocked (with how to allow it)


VERDICT_LABELS = {
    Verdict.GOOD: gettext_lazy("Good for video"),
    Verdict.AUDIO_ONLY: gettext_lazy("Audio only recommended"),
    Verdict.NOT_WORKING: gettext_lazy("Not working"),
}


def device_verdict(participant: Participant) -> Verdict | None:
    """What the device check comes to, or None before one: not working without a microphone, with a test sound
    not heard, or with the camera blocked (fixable: the page says how); audio only with no working camera or a
    slow connection; else good for video."""
    if participant.device_checked_at is None:
        return None
    found = participant.device_check or {}
    states = device_states(participant)
    if states["microphone"] != "working" or found.get("speaker_heard") is False or states["camera"] == "blocked":
        return Verdict.NOT_WORKING
    kbps = found.get("downlink_kbps")
    if states["camera"] != "working" or (kbps is not None and kbps < VIDEO_MIN_KBPS):
        return Verdict.AUDIO_ONLY
    return Verdict.GOOD
