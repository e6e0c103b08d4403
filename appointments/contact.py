"""How a claimant reaches a department (issue 17.8): its own contact details, else the organisation's."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.conf import settings

from claimants.services import normalise_phone_number


@dataclass(frozen=True)
class Contact:
    """A department's contact details as claimants read them; falsy when it has none."""

    name: str
    phone: str = ""
    email: str = ""
    hours: str = ""
    help: str = ""

    def __bool__(self) -> bool:
        return bool(self.phone or self.email or self.hours or self.help)

    @property
    def phone_shown(self) -> str:
        """The number as people read it (+44 20 7123 4567), or as configured when it does not parse."""
        try:
            number = phonenumbers.parse(self.phone, settings.PHONE_DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            return self.phone
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def phone_link(self) -> str:
        """The number for a `tel:` link (E.164)."""
        try:
            return normalise_phone_number(self.phone)
        except ValueError:
            return "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")


def organisation_contact(name: str = "") -> Contact:
    """The organisation's own contact details (CONTACT_PHONE, CONTACT_EMAIL, CONTACT_HOURS), for a department
    without any and for pages that name no department (an unknown link)."""
    return Contact(name, settings.CONTACT_PHONE, settings.CONTACT_EMAIL, settings.CONTACT_HOURS, "")
