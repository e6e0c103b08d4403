"""How a claimant reaches a department (issue 17.8): its own contact details, else the organisation's."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils import translation

from claimants.services import normalise_phone_number
from config.languages import WELSH


@dataclass(frozen=True)
class Contact:
    """A department's contact details as claimants read them; falsy when it has none."""

    name: str
    phone: str = ""
    email: str = ""
    hours: str = ""
    help: str = ""
    # The same two texts in Welsh, for the Welsh pages and messages; either may be blank.
    hours_cy: str = ""
    help_cy: str = ""

    def __bool__(self) -> bool:
        return bool(self.phone or self.email or self.hours or self.help or self.hours_cy or self.help_cy)

    @property
    def opening_hours(self) -> str:
        """The opening hours in the language being written (the page's, or each language's part of a message)."""
        return _in_language(self.hours, self.hours_cy)

    @property
    def help_text(self) -> str:
        """The help sentence in the language being written."""
        return _in_language(self.help, self.help_cy)

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
    """The organisation's own contact details (CONTACT_PHONE, CONTACT_EMAIL, CONTACT_HOURS and CONTACT_HOURS_CY), for
    a department without any and for pages that name no department (an unknown link)."""
    return Contact(
        name, settings.CONTACT_PHONE, settings.CONTACT_EMAIL, settings.CONTACT_HOURS, hours_cy=settings.CONTACT_HOURS_CY
    )


def _in_language(english: str, welsh: str) -> str:
    """A text the organisation wrote in English, Welsh or both, in the active language: the other one when that
    one is blank (something to read rather than nothing)."""
    if translation.get_language() == WELSH:
        return welsh or english
    return english or welsh
