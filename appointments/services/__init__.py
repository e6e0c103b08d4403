"""Business rules for appointments, shared by the API, the admin and the management commands.

Each service runs in one transaction, locks the appointment row first (so writes to one appointment are
serialised and a concurrent change is never lost), checks every rule and collects all errors under the dot
paths of the request fields, and only when there are none writes exactly the columns that change.

One module per action (create, update, cancel, no_show, follow_up; claimant_change: the claimant's own change;
dry_run: a change tried and not made); `planning` holds the rules a change is checked against, `shared` what
they share. Callers import from here.
"""

from appointments.services.cancel import appointment_cancel
from appointments.services.claimant_change import (
    ClaimantRefused,
    ClaimantRules,
    HeldTo,
    Refusal,
    TimeGone,
    appointment_claimant_cancel,
    appointment_claimant_reschedule,
    claimant_free_times,
    claimant_held_to,
    claimant_rules,
)
from appointments.services.create import (
    appointment_create,
    department_for_create,
)
from appointments.services.dry_run import DryRun, appointment_cancel_dry_run, appointment_update_dry_run
from appointments.services.follow_up import appointment_follow_up
from appointments.services.no_show import appointment_mark_no_shows
from appointments.services.planning import OPTION_FIELDS, RULED_FIELDS
from appointments.services.update import appointment_update

__all__ = [
    "OPTION_FIELDS",
    "RULED_FIELDS",
    "ClaimantRefused",
    "ClaimantRules",
    "DryRun",
    "HeldTo",
    "Refusal",
    "TimeGone",
    "appointment_cancel",
    "appointment_cancel_dry_run",
    "appointment_claimant_cancel",
    "appointment_claimant_reschedule",
    "appointment_create",
    "appointment_follow_up",
    "appointment_mark_no_shows",
    "appointment_update",
    "appointment_update_dry_run",
    "claimant_free_times",
    "claimant_held_to",
    "claimant_rules",
    "department_for_create",
]
