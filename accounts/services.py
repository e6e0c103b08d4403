"""Issuing and revoking API tokens, for the admin and the create_api_token command alike."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken
from appointments.models import Department
from config.actors import Staff


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
