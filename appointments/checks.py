"""System checks of the settings the appointments app reads: a malformed value fails at start, not on a claimant's
page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from claimants.services import normalise_phone_number


@register()
def organisation_contact_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """CONTACT_PHONE and CONTACT_EMAIL, the claimants' fallback contact details, must be a phone number and an
    address when set; CONTACT_HOURS_CY, the hours in Welsh, comes with CONTACT_HOURS (English pages show that)."""
    errors = []
    if settings.CONTACT_PHONE:
        try:
            normalise_phone_number(settings.CONTACT_PHONE)
        except ValueError:
            errors.append(Error("CONTACT_PHONE is not a valid phone number.", id="appointments.E001"))
    if settings.CONTACT_EMAIL:
        try:
            validate_email(settings.CONTACT_EMAIL)
        except ValidationError:
            errors.append(Error("CONTACT_EMAIL is not a valid email address.", id="appointments.E002"))
    if settings.CONTACT_HOURS_CY.strip() and not settings.CONTACT_HOURS.strip():
        errors.append(
            Error(
                "CONTACT_HOURS_CY is set without CONTACT_HOURS: English pages would have none.", id="appointments.E003"
            )
        )
    return errors
