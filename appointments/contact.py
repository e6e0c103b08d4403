"""How a claimant reaches a department (issue 17.8): its own contact details, else the organisation's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import models
from django.utils import translation

from claimants.services import normalise_phone_number
from config.languages import ENGLISH, WELSH


@dataclass(frozen=True)
class Written:
    """A text the organisation wrote, shown as a string; `lang` names its language when it is not the one being
    written around it (a Welsh page showing the English, which has no Welsh), for the `lang` attribute that makes a
    screen reader read it in the right voice (WCAG 3.1.2)."""

    words: str
    lang: str = ""

    def __str__(self) -> str:
        return self.words

    def __bool__(self) -> bool:
        return bool(self.words)


@dataclass(frozen=True)
class Bilingual:
    """A name the organisation wrote in English and perhaps Welsh, read as the Welsh while Welsh is being written
    (a Welsh page, the Welsh part of a message) when there is one, else the English. Chosen each time it is read,
    so one value serves both parts of a bilingual message. A proper name, it is not marked with a language of its
    own when the English stands in for it (WCAG 3.1.2 leaves out proper names)."""

    english: str
    welsh: str = ""

    def __str__(self) -> str:
        return self.welsh if self.welsh and translation.get_language() == WELSH else self.english

    def __bool__(self) -> bool:
        return bool(self.english or self.welsh)


@dataclass(frozen=True)
class Contact:
    """A department's contact details as claimants read them; falsy when it has none."""

    name: str | Bilingual
    phone: str = ""
    email: str = ""
    hours: str = ""
    help: str = ""
    # The same two texts in Welsh, for the Welsh pages and messages; blank: the English is shown there. A Welsh one
    # comes with its English (Department.clean, the organisation's by a system check): English pages show English.
    hours_cy: str = ""
    help_cy: str = ""

    def __bool__(self) -> bool:
        return bool(self.phone or self.email or self.hours or self.help)

    @classmethod
    def of_department(cls, department: Any) -> Contact:
        """A department's own details, as it keeps them."""
        details = (
            department.contact_phone,
            department.contact_email,
            department.contact_hours,
            department.contact_help,
        )
        return cls(department.shown_name, *details, *welsh_texts(department))

    @property
    def opening_hours(self) -> Written:
        """The opening hours in the language being written (the page's, or each language's part of a message)."""
        return _in_language(self.hours, self.hours_cy)

    @property
    def help_text(self) -> Written:
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


def organisation_contact(name: str | Bilingual = "") -> Contact:
    """The organisation's own contact details (CONTACT_PHONE, CONTACT_EMAIL, CONTACT_HOURS and CONTACT_HOURS_CY), for
    a department without any and for pages that name no department (an unknown link)."""
    return Contact(
        name, settings.CONTACT_PHONE, settings.CONTACT_EMAIL, settings.CONTACT_HOURS, hours_cy=settings.CONTACT_HOURS_CY
    )


def _in_language(english: str, welsh: str) -> Written:
    """A text the organisation wrote in English and perhaps Welsh, in the language being written: the Welsh on a
    Welsh page when there is one, else the English (marked as English there)."""
    if translation.get_language() == WELSH and welsh:
        return Written(welsh)
    if translation.get_language() == WELSH and english:
        return Written(english, ENGLISH)
    return Written(english)


def welsh_of(english: str, max_length: int, *, example: str = "", plural: bool = False) -> Any:
    """The field of a department's text for claimants in Welsh, beside the field `english` names (`plural` when
    the help text should say "are"): blank (the English is shown instead) until a manager writes it."""
    verb = "are" if plural else "is"
    return models.CharField(
        f"{english} in Welsh",
        max_length=max_length,
        blank=True,
        default="",
        db_default="",  # what the release before it inserts (it knows no such column)
        help_text=(f"For example: {example}. " if example else "")
        + f"Shown instead of the {english} on Welsh pages and in Welsh messages; blank: the {english} {verb} shown "
        "there.",
    )


# Each text a department writes for claimants, the field of its Welsh, and what a manager calls it.
WELSH_OF = (("contact_hours", "contact_hours_cy", "opening hours"), ("contact_help", "contact_help_cy", "help text"))


def welsh_texts(department: Any) -> tuple[str, ...]:
    return tuple(getattr(department, welsh) for _english, welsh, _label in WELSH_OF)


def welsh_without_english(department: Any) -> dict[str, str]:
    """The department's fields whose Welsh is written and whose English is not, with what to say: English pages
    and messages show the English, so a Welsh text alone would leave them without it."""
    return {
        english: f"Write the {label} in English too: English pages and messages show them, the Welsh only in Welsh."
        for english, welsh, label in WELSH_OF
        if getattr(department, welsh).strip() and not getattr(department, english).strip()
    }
