"""The claimant's identity check on their page: the date of birth they type against the one on record, the tries
it allows, the lock, and staff's unlock.

Every answer is read from the state its own locked transaction wrote: parallel guesses are counted one by one
under the participant's row lock, and each is told what its own guess did (never a count another guess moved on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.history import stamp
from meetings.models import Participant
from meetings.services import JourneyError, PageState, identity_required, page_state


class IdentityOutcome(StrEnum):
    PASSED = "passed"  # the date of birth matched (now or before)
    WRONG = "wrong"  # it did not; `tries_left` more are allowed
    LOCKED = "locked"  # too many wrong answers: staff must unlock the link


@dataclass(frozen=True)
class IdentityAnswer:
    """What one identity check did, as its transaction wrote it."""

    outcome: IdentityOutcome
    tries_left: int


# The states in which the identity check is asked; a locked link answers LOCKED, even inside them.
_OPEN_STATES = (PageState.CHECKS, PageState.WAITING, PageState.MEETING)
_ENDED = {
    PageState.UNAVAILABLE: "This appointment can no longer be joined.",
    PageState.COMPLETED: "This appointment can no longer be joined.",
    PageState.CLOSED: "The time for this appointment has passed.",
}


def participant_check_identity(
    *, participant: Participant, date_of_birth: date, now: datetime | None = None
) -> IdentityAnswer:
    """Compare the date of birth the claimant typed with the one on record; IDENTITY_MAX_FAILURES wrong answers
    lock the link. A locked link answers LOCKED whatever is typed, even the right date; outside the join window
    (or once the appointment is over) the check is a JourneyError and counts nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("appointment__claimant")
            .get(pk=participant.pk)
        )
        if not identity_required(locked):
            raise JourneyError("No identity check is needed on this link.")
        state = page_state(locked, now)
        if state in _ENDED:
            raise JourneyError(_ENDED[state])
        if locked.identity_checked_at is not None:
            return IdentityAnswer(IdentityOutcome.PASSED, _tries_left(locked))
        if state == PageState.LOCKED:
            return IdentityAnswer(IdentityOutcome.LOCKED, 0)
        if state not in _OPEN_STATES:
            raise JourneyError("The identity check opens with the join window.")
        if date_of_birth == locked.appointment.claimant.date_of_birth:
            locked.identity_checked_at = now
            changed = ["identity_checked_at"]
        else:
            locked.identity_failures += 1
            changed = ["identity_failures"]
            if locked.identity_failures >= settings.IDENTITY_MAX_FAILURES:
                locked.identity_locked_at = now
                changed.append("identity_locked_at")
        stamp(locked, locked)
        locked.save(update_fields=changed)
    for name in changed:
        setattr(participant, name, getattr(locked, name))
    if locked.identity_checked_at is not None:
        return IdentityAnswer(IdentityOutcome.PASSED, _tries_left(locked))
    if locked.identity_locked_at is not None:
        return IdentityAnswer(IdentityOutcome.LOCKED, 0)
    return IdentityAnswer(IdentityOutcome.WRONG, _tries_left(locked))


def _tries_left(participant: Participant) -> int:
    return max(0, settings.IDENTITY_MAX_FAILURES - participant.identity_failures)


def participant_unlock_identity(*, participant: Participant, actor: Any) -> Participant:
    """Staff let a locked claimant try again (after confirming who they are some other way)."""
    participant.identity_locked_at = None
    participant.identity_failures = 0
    stamp(participant, actor)
    participant.save(update_fields=["identity_locked_at", "identity_failures"])
    return participant
