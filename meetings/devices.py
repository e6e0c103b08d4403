"""The device check on a participant's page: camera and microphone permission (and why one failed), and a
downlink estimate; what the page, the meeting's settings and the agent make of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.history import stamp
from events.models import EventType
from events.services import events_record, participant_event
from meetings.browsers import Browser
from meetings.models import Participant
from meetings.services import PageState, page_allows

DOWNLINK_MAX_KBPS = 10_000_000
# Where the device check may be done: early too (to be ready), and again while waiting or in the meeting.
_CHECKING_STATES = (PageState.EARLY, PageState.CHECKS, PageState.WAITING, PageState.MEETING)
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
        page_allows(participant, browser, now or timezone.now(), *_CHECKING_STATES)
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
        participant.save(update_fields=["device_check", "device_checked_at"])
        events_record(
            appointment=participant.appointment,
            events=[participant_event(participant, EventType.PARTICIPANT_DEVICE_CHECKED)],
        )
    return participant


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
