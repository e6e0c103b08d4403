"""The claimant's languages (issue 22.1): which ones the service speaks, and the one a person reads.

English and Welsh, as BCP 47 primary tags (`en`, `cy`). The back office and the API stay in LANGUAGE_CODE; the
claimant's pages, messages and calendar invitations are rendered in the language chosen here, by the callers
(meetings/views.py for the pages, notifications/services.py for the messages). Here, below every app, so that
each app names the languages alike.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation.trans_real import parse_accept_lang_header

ENGLISH = "en"
WELSH = "cy"
SPOKEN = tuple(code for code, _name in settings.LANGUAGES)
# What staff read beside a department's language settings (appointments.models.Department).
LANGUAGE_HELP = "A claimant's pages and messages are in this language until they choose one."
BILINGUAL_HELP = "Messages to a claimant who has not chosen a language are in Welsh and English, Welsh first."
# Each language's name in itself: the switch on every claimant's page ("English | Cymraeg").
NAMES = dict(settings.LANGUAGES)


def spoken(value: object) -> str | None:
    """`value` as one of the languages the service speaks (`cy`, `cy-GB` and `CY` are Welsh), else None."""
    if not isinstance(value, str):
        return None
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in SPOKEN else None


def asked_for(accept_language: str) -> str | None:
    """The first language of an Accept-Language header that the service speaks, else None."""
    for tag, _quality in parse_accept_lang_header(accept_language[:1000]):
        found = spoken(tag)
        if found:
            return found
    return None


def first_of(*choices: object) -> str:
    """The first of `choices` that the service speaks (None and unknown tags skipped), English at the end."""
    for choice in choices:
        found = spoken(choice)
        if found:
            return found
    return ENGLISH
