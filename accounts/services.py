"""Issuing and revoking API tokens, and a staff member's leaving (deactivation), for the admin, the commands and
the identity provider alike."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_otp import devices_for_user

from accounts.models import ApiToken
from appointments.models import Appointment, Department
from appointments.selectors import AGENT_LEFT
from config.actors import Staff
from config.leaving import on_leaving

logger = logging.getLogger(__name__)


def api_token_issue_errors(*, actor: Staff, user: Any, departments: Iterable[Department] = ()) -> dict[str, list[str]]:
    """Whether a staff member may issue a token for `user` (adding them to `departments`).

    A token acts as its user, so a department manager may not mint access beyond their own departments: not for
    a superuser, not for a user who reaches a department outside theirs, not into such a department.
    A superuser may issue any token.
    """
    if actor.is_superuser:
        return {}
    mine = Department.objects.visible_to(actor).values("pk")
    errors: dict[str, list[str]] = {}
    if user.is_superuser or user.departments.exclude(pk__in=mine).exists():
        errors["user"] = ["This user reaches departments outside yours; ask a superuser."]
    allowed = set(Department.objects.visible_to(actor).values_list("pk", flat=True))
    if any(department.pk not in allowed for department in departments):
        errors["departments"] = ["You can add users only to your own departments."]
    return errors


def api_token_create(
    *,
    user: Any,
    name: str = "",
    expires_in: timedelta | None,
    actor: Staff | None = None,
    departments: Iterable[Department] = (),
) -> tuple[ApiToken, str]:
    """Issue a bearer token for a user, first adding the user to `departments`; returns the row and the secret,
    which is shown once and never stored.

    `actor` is the staff member issuing it (None: an operator's command), checked by api_token_issue_errors.
    """
    departments = list(departments)
    with transaction.atomic():
        if actor is not None:
            errors = api_token_issue_errors(actor=actor, user=user, departments=departments)
            if errors:
                raise ValidationError(errors)
        for department in departments:
            department.members.add(user)
        # knox's manager stores only the digest and turns the timedelta into an expiry date (None: never).
        token, secret = ApiToken.objects.create(user=user, expiry=expires_in, name=name)
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token at once; the row stays, so who had access and until when stays answerable."""
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db(fields=["revoked_at"])
    return token


def appointments_to_reassign(*, user: User) -> QuerySet[Appointment]:
    """A leaver's appointments that have not started: the back office lists them under "Needs attention" (an
    agent who is no longer active) until a manager gives each to another agent."""
    return Appointment.objects.filter(AGENT_LEFT, agent=user).order_by("appointment_at")


@dataclass
class Leaving:
    """What one deactivation ended, for the page's message, the command's output and the tests."""

    user: User
    sessions_ended: int = 0
    tokens_revoked: int = 0
    ended_elsewhere: dict[str, int] = field(default_factory=dict)  # config.leaving's registrations: name -> count
    to_reassign: list[Appointment] = field(default_factory=list)


def _sessions_of(user: User) -> list[str]:
    """The keys of the unexpired sessions signed in as `user`. Django's sessions are not indexed by user, so each
    is decoded: staff sessions are few (one per browser and fortnight), and a leaver is rare."""
    keys = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            keys.append(session.session_key)
    return keys


def user_deactivate(*, user: User, actor: Staff | None = None) -> Leaving:
    """A staff member leaves: in one step they can no longer sign in (is_active off), every session of theirs
    ends, every API token of theirs is revoked (kept on record with the time), whatever the apps registered in
    config.leaving ends (the calendar feed), and with the sign-in gone so is their join as agent (the agent joins
    from the back office, which refuses an inactive user). Their appointments that have not started are returned,
    and listed in the back office under "Needs attention", for a manager to reassign.

    Idempotent: deactivating an inactive user ends whatever of theirs is still live (a session or token made
    before the flag was set by hand). `actor` is the staff member doing it (None: a command, the identity provider);
    nobody deactivates themselves (the last superuser would lock everyone out).
    """
    if actor is not None and actor.pk == user.pk:
        raise ValidationError({"user": ["You cannot deactivate yourself."]})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
        user.is_active = False
        leaving = Leaving(user=locked)
        keys = _sessions_of(locked)
        leaving.sessions_ended, _ = Session.objects.filter(session_key__in=keys).delete()
        leaving.tokens_revoked = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        for name, end in on_leaving.items():
            leaving.ended_elsewhere[name] = end(locked)
        leaving.to_reassign = list(appointments_to_reassign(user=locked).select_related("department"))
    # The user's id only: a name or an email is personal data and never reaches a log line.
    logger.info(
        "User deactivated user_id=%s sessions_ended=%s tokens_revoked=%s to_reassign=%s",
        locked.pk,
        leaving.sessions_ended,
        leaving.tokens_revoked,
        len(leaving.to_reassign),
    )
    return leaving


def second_factor_reset(*, user: User, actor: Staff) -> int:
    """A staff member lost their authenticator app and their recovery codes: their devices (django-otp's, the app's
    and the recovery codes') are deleted and their sessions end, so their next sign-in asks them to enrol again
    (config.second_factor). Only a superuser does it (the back office's action says so); nobody resets their own,
    which would let a stolen password replace its owner's factor. Returns how many devices were deleted."""
    if actor.pk == user.pk:
        raise ValidationError({"user": ["You cannot reset your own second factor."]})
    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
        Session.objects.filter(session_key__in=_sessions_of(user)).delete()
    logger.info("Second factor reset user_id=%s devices=%s", user.pk, len(devices))  # the id only: no name
    return len(devices)
