"""The claimant's identity check on their page: the date of birth they type against the one on record, in one
browser, the tries it allows per browser and per link, the locks, and staff's unlock.

The rule (docs/decisions.md, "The identity check and the browser"): a browser gets IDENTITY_MAX_FAILURES wrong
answers on a link, then it is locked out of that link; the link itself locks after IDENTITY_LINK_MAX_FAILURES
wrong answers from all browsers together. Passing binds the link to the browser (a new key in its cookie); a
browser that passes later takes over. Staff unlock clears both counts.

Every answer is read from the state its own locked transaction wrote: parallel guesses are counted one by one
under the participant's row lock, and each is told what its own guess did (never a count another guess moved on).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.actors import Actor
from config.history import stamp
from ledger.services import Happening, about, lock_appointment, record
from meetings.browsers import Browser, browser_digest, new_browser_key
from meetings.models import Participant, ParticipantBrowser
from meetings.services import COOKIES_NEEDED, JourneyError, PageState, identity_required, page_state


class IdentityOutcome(StrEnum):
    PASSED = "passed"  # the date of birth matched: this browser holds the link (now or already)
    WRONG = "wrong"  # it did not; `tries_left` more are allowed in this browser
    BROWSER_LOCKED = "browser_locked"  # too many wrong answers in this browser: staff must unlock it
    LOCKED = "locked"  # too many wrong answers on the link from all browsers: staff must unlock it


@dataclass(frozen=True)
class IdentityAnswer:
    """What one identity check did, as its transaction wrote it. `browser_key` is the browser's new key when it
    passed just now (its cookie must carry it from now on), else empty."""

    outcome: IdentityOutcome
    tries_left: int
    browser_key: str = ""


# The states in which a browser is asked who they are (a locked link or browser answers LOCKED, even inside them).
_OPEN_STATES = (PageState.CHECKS, PageState.ELSEWHERE)
_ENDED = {
    PageState.UNAVAILABLE: _("This appointment can no longer be joined."),
    PageState.COMPLETED: _("This appointment can no longer be joined."),
    PageState.CLOSED: _("The time for this appointment has passed."),
}


_NUMBER = re.compile(r"^\s*(\d{1,4})\s*$")


def date_of_birth_entered(body: Mapping[str, Any]) -> date:
    """The date of birth as the page sends it: three fields, `day`, `month` and `year` (GOV.UK's memorable date,
    issue 22.2), or `date_of_birth` as YYYY-MM-DD. A date that cannot be read is a ValidationError naming the
    field to correct, raised before any check: a mistake in the format never counts as a wrong try."""
    if "day" not in body and "month" not in body and "year" not in body:
        written = body.get("date_of_birth")
        if isinstance(written, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", written):
            try:
                return date.fromisoformat(written.strip())
            except ValueError:
                pass
        raise ValidationError({"date_of_birth": [_("Enter your date of birth (day, month and year).")]})
    parts: dict[str, int] = {}
    missing = []
    for name in ("day", "month", "year"):
        value = body.get(name)
        found = _NUMBER.match(value) if isinstance(value, str) else None
        if found is None:
            missing.append(name)
        else:
            parts[name] = int(found.group(1))
    if len(missing) == 3:
        raise ValidationError({"day": [_("Enter your date of birth.")]})
    if missing:
        messages = {
            "day": _("Your date of birth must include a day, in numbers."),
            "month": _("Your date of birth must include a month, in numbers."),
            "year": _("Your date of birth must include a year, in numbers."),
        }
        raise ValidationError({missing[0]: [messages[missing[0]]]})
    if parts["year"] < 1000:
        raise ValidationError({"year": [_("The year must have 4 numbers, for example 1985.")]})
    try:
        born = date(parts["year"], parts["month"], parts["day"])
    except ValueError:
        field = "month" if not 1 <= parts["month"] <= 12 else "day"
        raise ValidationError({field: [_("Your date of birth must be a real date.")]}) from None
    if born > timezone.localdate():
        raise ValidationError({"year": [_("Your date of birth must be in the past.")]})
    return born


def participant_check_identity(
    *,
    participant: Participant,
    browser: Browser,
    date_of_birth: date,
    now: datetime | None = None,
    before_window: bool = False,
) -> IdentityAnswer:
    """Compare the date of birth typed in this browser with the one on record, counting a wrong one against the
    browser and the link. A locked link or browser answers LOCKED whatever is typed, even the right date; outside
    the join window (or once the appointment is over) the check is a JourneyError and counts nothing, except
    `before_window`: the claimant's "Change or cancel" page (issue 23.2) asks it days ahead, with the same tries."""
    now = now or timezone.now()
    digest = browser.digest
    if digest is None:
        raise JourneyError(COOKIES_NEEDED)
    with transaction.atomic():
        lock_appointment(participant.appointment_id)  # as every change takes it first; the ledger's entry under it
        locked = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("appointment__claimant")
            .get(pk=participant.pk)
        )
        if not identity_required(locked):
            raise JourneyError(_("No identity check is needed on this link."))
        # Under the participant's lock, so this browser's row is read and written by one guess at a time.
        tries = ParticipantBrowser.objects.filter(participant=locked, digest=digest).first()
        here = Browser(digest=digest, locked_out=tries is not None and tries.identity_locked_at is not None)
        state = page_state(locked, now, here)
        if state in _ENDED:
            raise JourneyError(_ENDED[state])
        if here.holds(locked) and locked.identity_checked_at is not None:
            return IdentityAnswer(IdentityOutcome.PASSED, _tries_left(locked, tries))
        if state == PageState.LOCKED:
            return _locked(locked)
        if state not in _OPEN_STATES and not (before_window and state == PageState.EARLY):
            raise JourneyError(_("The identity check opens with the join window."))
        if date_of_birth == locked.appointment.claimant.date_of_birth:
            return _pass(locked, participant, now)
        return _count_wrong(locked, participant, tries or ParticipantBrowser(participant=locked, digest=digest), now)


def _pass(locked: Participant, participant: Participant, now: datetime) -> IdentityAnswer:
    # A new key on passing: a key planted in the browser beforehand (by whoever set its cookie) holds nothing.
    key = new_browser_key()
    locked.identity_checked_at = now
    locked.browser_digest = browser_digest(key)
    changed = ["identity_checked_at", "browser_digest"]
    stamp(locked, locked)
    locked.save(update_fields=changed)
    record(locked.appointment_id, [Happening("identity.checked", {**about(locked), "result": "passed"})], actor=locked)
    _copy(locked, participant, changed)
    return IdentityAnswer(IdentityOutcome.PASSED, settings.IDENTITY_MAX_FAILURES, browser_key=key)


def _count_wrong(
    locked: Participant, participant: Participant, tries: ParticipantBrowser, now: datetime
) -> IdentityAnswer:
    tries.identity_failures += 1
    happened = [Happening("identity.checked", {**about(locked), "result": "failed"})]
    if tries.identity_failures >= settings.IDENTITY_MAX_FAILURES:
        tries.identity_locked_at = now
        happened.append(Happening("identity.locked", {**about(locked), "scope": "browser"}))
    tries.save()
    locked.identity_failures += 1
    changed = ["identity_failures"]
    if locked.identity_failures >= settings.IDENTITY_LINK_MAX_FAILURES:
        locked.identity_locked_at = now
        changed.append("identity_locked_at")
        happened.append(Happening("identity.locked", {**about(locked), "scope": "link"}))
    stamp(locked, locked)
    locked.save(update_fields=changed)
    record(locked.appointment_id, happened, actor=locked)
    _copy(locked, participant, changed)
    if locked.identity_locked_at is not None:
        return IdentityAnswer(IdentityOutcome.LOCKED, 0)
    if tries.identity_locked_at is not None:
        return IdentityAnswer(IdentityOutcome.BROWSER_LOCKED, 0)
    return IdentityAnswer(IdentityOutcome.WRONG, _tries_left(locked, tries))


def _locked(participant: Participant) -> IdentityAnswer:
    if participant.identity_locked_at is not None:
        return IdentityAnswer(IdentityOutcome.LOCKED, 0)
    return IdentityAnswer(IdentityOutcome.BROWSER_LOCKED, 0)


# What the claimant reads where wrong dates of birth locked the link or this browser (their page, the change page):
# whom to contact, whose details every such page shows below it.
_LOCKED_WORDS = {
    IdentityOutcome.LOCKED: _(
        "The date of birth was entered wrongly too many times. Please contact %(department)s to unlock it: how is "
        "below."
    ),
    IdentityOutcome.BROWSER_LOCKED: _(
        "The date of birth was entered wrongly too many times in this browser. Please contact %(department)s to "
        "unlock it: how is below."
    ),
}


def locked_words(participant: Participant, outcome: IdentityOutcome | None = None) -> str:
    """The lock's sentence in the active language, naming the department as the claimant reads it. `outcome` is the
    check's answer just given; without it, the lock on record (the link's, else this browser's)."""
    lock = outcome or _locked(participant).outcome
    return str(_LOCKED_WORDS[lock] % {"department": participant.appointment.department.shown_name})


def _tries_left(participant: Participant, tries: ParticipantBrowser | None) -> int:
    """The fewer of this browser's tries and the link's."""
    in_browser = settings.IDENTITY_MAX_FAILURES - (tries.identity_failures if tries else 0)
    on_link = settings.IDENTITY_LINK_MAX_FAILURES - participant.identity_failures
    return max(0, min(in_browser, on_link))


def _copy(locked: Participant, participant: Participant, names: list[str]) -> None:
    """The caller's instance learns what was written (the page answers with its new state)."""
    for name in names:
        setattr(participant, name, getattr(locked, name))


def participant_unlock_identity(*, participant: Participant, actor: Actor) -> Participant:
    """Staff let a locked-out claimant try again (after confirming who they are some other way): the link's lock
    and count, and every browser's, are cleared."""
    with transaction.atomic():
        lock_appointment(participant.appointment_id)
        participant.identity_locked_at = None
        participant.identity_failures = 0
        stamp(participant, actor)
        participant.save(update_fields=["identity_locked_at", "identity_failures"])
        ParticipantBrowser.objects.filter(participant=participant).delete()
        record(participant.appointment_id, [Happening("identity.unlocked", about(participant))], actor=actor)
    return participant
