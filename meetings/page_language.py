"""The language of a participant's public page (issue 22.1), and the switch on every page ("English | Cymraeg").

In this order: the language just chosen with the switch (`?lang=cy`); the browser's choice (a cookie the switch
sets: a choice made in this browser is this browser's page language, whoever holds it); the claimant's own (their
`preferred_language`, which the switch records only from the claimant's own browser, past the identity check:
meetings.services.journey.participant_choose_language); Welsh when the browser asks for it (Accept-Language);
Welsh for a bilingual department; the department's default language; English. docs/decisions.md, "The claimant's
language", says why in this order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from config.languages import NAMES, SPOKEN, WELSH, asked_for, first_of, spoken
from meetings.services.journey import participant_choose_language

if TYPE_CHECKING:
    from meetings.browsers import Browser
    from meetings.models import Participant

LANGUAGE_COOKIE = "join_language"
SWITCH_PARAMETER = "lang"
_COOKIE_DAYS = 365


def chosen_now(request: HttpRequest) -> str | None:
    """The language the switch on the page asked for, if it is one the service speaks."""
    return spoken(request.GET.get(SWITCH_PARAMETER))


def _browser_choice(request: HttpRequest) -> str | None:
    return chosen_now(request) or spoken(request.COOKIES.get(LANGUAGE_COOKIE))


def _browser_asks_for_welsh(request: HttpRequest) -> str | None:
    return WELSH if asked_for(request.headers.get("Accept-Language", "")) == WELSH else None


def request_language(request: HttpRequest) -> str:
    """A page that belongs to no link (not valid, too many requests): the switch, else the browser's."""
    return first_of(_browser_choice(request), asked_for(request.headers.get("Accept-Language", "")))


def participant_language(request: HttpRequest, participant: Participant) -> str:
    """The language of a participant's page (the appointment's claimant and department read with it)."""
    own = None
    if participant.role == "claimant":
        claimant = getattr(participant.appointment, "claimant", None)
        own = getattr(claimant, "preferred_language", None)
    department = participant.appointment.department
    return first_of(
        chosen_now(request),
        spoken(request.COOKIES.get(LANGUAGE_COOKIE)),
        own,
        _browser_asks_for_welsh(request),
        # A bilingual department's pages are Welsh first (the Welsh Language Standards), English one choice away.
        WELSH if getattr(department, "bilingual", False) else None,
        getattr(department, "default_language", None),
    )


def keep_browser_choice(request: HttpRequest, participant: Participant, browser: Browser) -> None:
    """The identity check has just passed in this browser, so it is the claimant's own: the language its switch
    chose before the check (its cookie) becomes the claimant's, as the same switch after the check would have made
    it. Otherwise a claimant who chose Welsh first would read Welsh pages but get English messages."""
    language = spoken(request.COOKIES.get(LANGUAGE_COOKIE))
    if language:
        participant_choose_language(participant=participant, browser=browser, language=language)


# How a page names its participant's role in a sentence ("you are joining as interpreter").
_ROLE_WORDS = {
    "interpreter": gettext_lazy("interpreter"),
    "guest": gettext_lazy("guest"),
    "agent": gettext_lazy("agent"),
}


def role_words(participant: Participant) -> str:
    return str(_ROLE_WORDS.get(participant.role, ""))


def use_language(request: HttpRequest, language: str) -> None:
    """Speak `language` for the rest of the request, and keep it on the request: a page that fails after this
    point is told so in the same language (meetings/error_pages.py)."""
    translation.activate(language)
    request.page_language = language  # type: ignore[attr-defined]


def language_switch(*, welsh_first: bool = False) -> list[dict[str, str | bool]]:
    """The switch's links, each language named in itself, the page's own marked current; Cymraeg first on a
    bilingual department's pages."""
    current = translation.get_language()
    codes = sorted(SPOKEN, key=lambda code: code != WELSH) if welsh_first else SPOKEN
    return [
        {"code": code, "name": NAMES[code], "href": f"?{SWITCH_PARAMETER}={code}", "current": code == current}
        for code in codes
    ]


def remember_language(response: HttpResponseBase, request: HttpRequest) -> None:
    """Keep the switch's choice in the browser, and say in which language the page is and what chose it."""
    choice = chosen_now(request)
    if choice:
        response.set_cookie(
            LANGUAGE_COOKIE,
            choice,
            max_age=_COOKIE_DAYS * 24 * 3600,
            path="/join/",
            secure=request.is_secure() or settings.HTTPS,
            httponly=True,
            samesite="Lax",
        )
    response["Content-Language"] = translation.get_language() or ""
    patch_vary_headers(response, ("Accept-Language", "Cookie"))


@require_GET
def text_catalogue(request: HttpRequest, language: str) -> HttpResponseBase:
    """The page script's texts in one language (Django's JavaScript catalogue: `gettext()` in static/meetings/),
    a static script at its own address, which the CSP's script-src 'self' allows."""
    if language not in SPOKEN:
        raise Http404
    with translation.override(language):
        response = JavaScriptCatalog.as_view()(request)
    response["Cache-Control"] = "public, max-age=3600"
    return response
