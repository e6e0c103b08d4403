"""The participants as staff see them: each one's readiness in a line (device check, identity, consent), in the
waiting room and on the appointment's page, and that page's participants panel (each link to copy, with the
actions staff may take), which appointments' admin shows through appointments.hooks.participants_panel.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from appointments.models import FINAL_STATUSES, LIVE_STATUSES, Appointment
from meetings.devices import VIDEO_MIN_KBPS, device_states
from meetings.models import Participant, Role
from meetings.selectors import appointment_participants
from meetings.services import (
    display_name,
    participant_url,
    recording_allowed,
    recording_declined_by,
    waiting_for_admission,
)

_DEVICE_WORDS = {
    "working": "ok",
    "blocked": "blocked by the browser",
    "missing": "not found",
    "unavailable": "not available",
}


def readiness(participant: Participant) -> str:
    """A line the agent reads: device check, identity, consent."""
    parts = []
    check = participant.device_check or {}
    if participant.device_checked_at is None:
        parts.append("device not checked")
    else:
        for name, state in device_states(participant).items():
            parts.append(f"{name} {_DEVICE_WORDS.get(state, 'not available')}")
        if check.get("downlink_kbps"):
            # In words, as the device check says it to the claimant (issue 22.5), not the measured number.
            fast = check["downlink_kbps"] >= VIDEO_MIN_KBPS
            parts.append("connection fast enough for video" if fast else "slow connection (audio only advised)")
    if participant.identity_locked_at:
        parts.append("identity LOCKED")
    elif participant.identity_checked_at:
        parts.append("identity confirmed")
    elif participant.identity_failures:
        parts.append(f"identity: {participant.identity_failures} wrong")
    if participant.recording_consent is True:
        parts.append("consents to recording")
    elif participant.recording_consent is False:
        parts.append("DECLINED recording")
    return ", ".join(parts)


def participants_context(appointment: Appointment) -> dict[str, Any]:
    """What the appointment's page shows of its participants: each link (to copy), readiness, identity and consent,
    with the actions staff may take (invite a guest, revoke a guest's link, unlock an identity check)."""
    people = appointment_participants(appointment)
    return {
        "appointment": appointment,
        "people": [
            {
                "participant": p,
                "name": display_name(p),
                "url": participant_url(p),
                "readiness": readiness(p) if p.role != Role.AGENT else "",
                "role": Role(p.role).label,
                "can_admit": waiting_for_admission(p) and appointment.status in LIVE_STATUSES,
            }
            for p in people
        ],
        "declined_recording": appointment.features_call_recording_enable and not recording_allowed(appointment, people),
        "declined_by": [display_name(p) for p in recording_declined_by(appointment, people)],
        "can_invite": appointment.status not in FINAL_STATUSES,
    }


def participants_panel(appointment: Appointment) -> str:
    """The participants panel of the appointment's admin page (appointments.hooks.participants_panel)."""
    return render_to_string("admin/appointments/participants_panel.html", participants_context(appointment))
