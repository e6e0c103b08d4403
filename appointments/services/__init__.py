"""Business rules for appointments, shared by the API, the admin and the management commands.

Each service runs in one transaction, locks the appointment row first (so writes to one appointment are
serialised and a concurrent change is never lost), checks every rule and collects all errors under the dot
paths of the request fields, and only when there are none writes exactly the columns that change.

One module per action (create, update, cancel, no_show, follow_up); `planning` holds the rules a change is checked
against, `shared` what they share. Callers import from here.
"""

from appointments.services.cancel import appointment_cancel
from appointments.services.create import (
    DRAW_ATTEMPTS,
    REFERENCE_DIGITS,
    appointment_create,
    department_for_create,
    draw_reference,
)
from appointments.services.follow_up import appointment_follow_up
from appointments.services.no_show import appointment_mark_no_shows
from appointments.services.planning import OPTION_FIELDS, RULED_FIELDS, status_refusal
from appointments.services.shared import (
    AGENT_OVERLAP_CONSTRAINT,
    LIVE_STATUSES,
    Planned,
    Precondition,
    agent_clash,
    clash_message,
)
from appointments.services.update import appointment_update

__all__ = [
    "AGENT_OVERLAP_CONSTRAINT",
    "DRAW_ATTEMPTS",
    "LIVE_STATUSES",
    "OPTION_FIELDS",
    "REFERENCE_DIGITS",
    "RULED_FIELDS",
    "Planned",
    "Precondition",
    "agent_clash",
    "appointment_cancel",
    "appointment_create",
    "appointment_follow_up",
    "appointment_mark_no_shows",
    "appointment_update",
    "clash_message",
    "department_for_create",
    "draw_reference",
    "status_refusal",
]
