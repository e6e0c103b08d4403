"""The meeting of an appointment and its participants: the meeting is created with the appointment and moved
with every reschedule; each participant has a link of their own, a join window, and a journey (device check,
identity check, consent, waiting room, meeting) that their public page walks through.

One module per concern (meeting, participants, pages); the names callers use are imported here. The steps that
move the appointment (joining, leaving, letting the absent go) are in meetings.services.journey, imported from
there as its callers always have; what follows an appointment's creation and change is in meetings.services.follow
(registered with appointments/hooks.py from MeetingsConfig.ready()).
"""

from meetings.services.meeting import (
    meeting_follow_appointment,
    meeting_for,
)
from meetings.services.pages import (
    COOKIES_NEEDED,
    JourneyError,
    PageState,
    admitted_one_by_one,
    agent_seen,
    checks_missing,
    consent_required,
    identity_passed,
    identity_required,
    join_window,
    page_allows,
    page_state,
    participant_record_consent,
    participant_seen,
    recording_allowed,
    recording_declined_by,
    still_waiting,
    token_expires_at,
    waiting_for_admission,
)
from meetings.services.participants import (
    display_name,
    participant_admit,
    participant_invite_guest,
    participant_revoke,
    participant_url,
)

__all__ = [
    "COOKIES_NEEDED",
    "JourneyError",
    "PageState",
    "admitted_one_by_one",
    "agent_seen",
    "checks_missing",
    "consent_required",
    "display_name",
    "identity_passed",
    "identity_required",
    "join_window",
    "meeting_follow_appointment",
    "meeting_for",
    "page_allows",
    "page_state",
    "participant_admit",
    "participant_invite_guest",
    "participant_record_consent",
    "participant_revoke",
    "participant_seen",
    "participant_url",
    "recording_allowed",
    "recording_declined_by",
    "still_waiting",
    "token_expires_at",
    "waiting_for_admission",
]
