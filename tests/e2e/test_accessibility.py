"""WCAG 2.2 AA, proved (issue 22.4): every state of the claimant's, the interpreter's and the guest's page, and the
pages without a link, in English and Welsh, at 1366 and 390 CSS pixels wide, in the light and the dark colour
scheme, has no axe-core finding under the WCAG 2.2 AA tags; every target is at least 24 by 24 pixels (2.5.8, but
for a link inside a sentence); tabbing through the page, no focused element is covered by another (2.4.11) or
invisible; nothing scrolls sideways at 320 pixels (1.4.10); and every page links the accessibility statement.

Each state is set up through the services (the browser holding the link gets its cookie as the page would have
set it) and opened once; the eight variants are the same page emulated again and reloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from appointments.models import Appointment, Department, Status
from appointments.services import appointment_cancel, appointment_update
from appointments.services.no_show import appointment_mark_no_shows
from meetings.browsers import Browser, browser_digest, new_browser_key
from meetings.devices import participant_record_device_check
from meetings.identity import IdentityOutcome, participant_check_identity
from meetings.models import Participant, Role
from meetings.services import participant_admit, participant_invite_guest, participant_record_consent
from meetings.services.journey import participant_join, participant_leave
from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.e2e.test_claimant_journey import video_stub  # noqa: F401 (fixture)
from tests.factories import make_appointment
from tests.helpers import rewrite, walk_to

pytestmark = pytest.mark.django_db(transaction=True)

BORN = date(1990, 5, 17)
STATEMENT = "/join/accessibility"
# The language asked for by the browser (each page without a choice of its own follows it), the widths, the schemes.
LANGUAGES = {"en": "en-GB,en;q=0.9", "cy": "cy,en;q=0.5"}
WIDTHS = (1366, 390)
SCHEMES = ("light", "dark")

# A stand-in for the video platform's IFrame API that does what the real one does to the page: an iframe, with no
# title of its own, filling the holder; meeting.js names it.
PLATFORM = """
window.JitsiMeetExternalAPI = function (domain, options) {
  var frame = document.createElement("iframe");
  frame.src = "about:blank";
  frame.style.width = "100%";
  frame.style.height = "100%";
  frame.style.border = "0";
  options.parentNode.appendChild(frame);
  this.getIFrame = function () { return frame; };
  this.addListener = function () {};
  this.dispose = function () {};
};
"""


@dataclass
class Scene:
    """A page to open: its address, the link's browser key this browser holds (if any), what to do once loaded."""

    url: str
    heading: str
    token: str | None = None
    browser_key: str | None = None
    after_load: Callable[[Any], None] | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def _claimant(appointment: Appointment) -> Participant:
    return Participant.objects.select_related("appointment__claimant").get(
        appointment=appointment, role=Role.CLAIMANT, revoked_at__isnull=True
    )


def _appointment(department: Any, minutes_ahead: float = 10, **overrides: Any) -> Appointment:
    claimant = {"name": "Ada Lovelace", "date_of_birth": BORN, "data": {"Case number": "C-1"}}
    return make_appointment(
        department,
        appointment_at=timezone.now() + timedelta(minutes=minutes_ahead),
        duration_in_minutes=30,
        claimant=claimant,
        features_call_recording_enable=True,
        **overrides,
    )


def _passed(participant: Participant) -> str:
    """The identity check passed in a browser: the key the page's cookie then carries."""
    answer = participant_check_identity(
        participant=participant, browser=_browser(new_browser_key()), date_of_birth=BORN
    )
    assert answer.outcome == IdentityOutcome.PASSED
    assert answer.browser_key
    participant.refresh_from_db()
    return answer.browser_key


def _browser(key: str) -> Browser:
    return Browser(digest=browser_digest(key))


def _ready(participant: Participant, key: str, *, consent: bool | None = True) -> None:
    participant_record_device_check(
        participant=participant,
        results={"camera": True, "microphone": True, "downlink_kbps": 9000},
        browser=_browser(key),
    )
    if consent is not None:
        participant_record_consent(participant=participant, consent=consent, browser=_browser(key))


def _claimant_in_room(department: Any) -> tuple[Appointment, Participant, str]:
    appointment = _appointment(department)
    claimant = _claimant(appointment)
    key = _passed(claimant)
    _ready(claimant, key)
    participant_join(participant=claimant, browser=_browser(key))
    return appointment, claimant, key


def _other(appointment: Appointment, role: str) -> tuple[Participant, str]:
    """The interpreter's or a guest's link, through its checks, waiting to be let in."""
    if role == Role.GUEST:
        person = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=None)
    else:
        person = Participant.objects.get(appointment=appointment, role=Role.INTERPRETER, revoked_at__isnull=True)
    key = new_browser_key()
    _ready(person, key, consent=False)
    participant_join(participant=person, browser=_browser(key))
    return person, key


def _wrong_date(page: Any) -> None:
    page.fill("#dob-day", "1")
    page.fill("#dob-month", "1")
    page.fill("#dob-year", "1980")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector("#identity-error:not(:empty)")


def _scene(name: str, department: Any, base: str) -> Scene:
    join = f"{base}/join/"
    if name == "not-valid":
        return Scene(f"{join}{'x' * 30}", "This link is not valid")
    if name == "too-many":
        with override_settings(PUBLIC_PAGE_RATE_PER_MINUTE=1):
            Client().get(f"/join/{'x' * 30}")  # this address's one request of the minute (the count is per address)
        return Scene(f"{join}{'x' * 30}", "Please wait a moment", settings={"PUBLIC_PAGE_RATE_PER_MINUTE": 1})
    if name == "statement":
        return Scene(f"{base}{STATEMENT}", "Accessibility statement")
    if name == "early":
        appointment = _appointment(department, minutes_ahead=3 * 24 * 60)
        return Scene(f"{join}{appointment.public_token}", "Your video appointment")
    if name == "checks":
        appointment = _appointment(department)
        return Scene(f"{join}{appointment.public_token}", "Your video appointment")
    if name == "identity-error":
        appointment = _appointment(department)
        return Scene(
            f"{join}{appointment.public_token}",
            "Your video appointment",
            after_load=_wrong_date,
            settings={"IDENTITY_MAX_FAILURES": 1000, "IDENTITY_LINK_MAX_FAILURES": 1000},
        )
    if name == "locked":
        appointment = _appointment(department)
        claimant = _claimant(appointment)
        key = new_browser_key()
        with override_settings(IDENTITY_MAX_FAILURES=1):
            wrong = participant_check_identity(
                participant=claimant, browser=_browser(key), date_of_birth=date(1980, 1, 1)
            )
        assert wrong.outcome == IdentityOutcome.BROWSER_LOCKED
        return Scene(
            f"{join}{appointment.public_token}",
            "This link is locked",
            token=appointment.public_token,
            browser_key=key,
            settings={"IDENTITY_MAX_FAILURES": 1},
        )
    if name == "consent":
        appointment = _appointment(department)
        claimant = _claimant(appointment)
        key = _passed(claimant)
        _ready(claimant, key, consent=None)
        return Scene(f"{join}{claimant.token}", "Your video appointment", token=claimant.token, browser_key=key)
    if name == "waiting":
        appointment, claimant, key = _claimant_in_room(department)
        return Scene(f"{join}{claimant.token}", "You are in the waiting room", token=claimant.token, browser_key=key)
    if name == "meeting":
        appointment, claimant, key = _claimant_in_room(department)
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
        return Scene(f"{join}{claimant.token}", "Your appointment", token=claimant.token, browser_key=key)
    if name == "hung-up":
        appointment, claimant, key = _claimant_in_room(department)
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
        participant_leave(participant=claimant, browser=_browser(key))
        return Scene(f"{join}{claimant.token}", "Your video appointment", token=claimant.token, browser_key=key)
    if name == "completed":
        appointment, claimant, key = _claimant_in_room(department)
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
        appointment_update(appointment=appointment, data={"status": Status.COMPLETED}, actor=None)
        return Scene(f"{join}{claimant.token}", "Thank you", token=claimant.token, browser_key=key)
    if name == "cancelled":
        appointment = _appointment(department)
        appointment_cancel(appointment=appointment, actor=None, reason="The claimant asked")
        return Scene(f"{join}{appointment.public_token}", "This appointment was cancelled")
    if name == "missed":
        appointment = walk_to(_appointment(department, minutes_ahead=60), Status.WAITING)
        ended = appointment.appointment_at + timedelta(minutes=appointment.duration_in_minutes + 60)
        with time_machine.travel(ended, tick=False):
            appointment_mark_no_shows(now=ended, appointment_id=appointment.pk)
        return Scene(f"{join}{appointment.public_token}", "Sorry, your appointment could not go ahead")
    if name == "closed":
        appointment = _appointment(department)
        rewrite(Appointment.objects.filter(pk=appointment.pk), appointment_at=timezone.now() - timedelta(hours=3))
        return Scene(f"{join}{appointment.public_token}", "Your video appointment")
    if name == "elsewhere":
        appointment = _appointment(department)
        _passed(_claimant(appointment))  # in another browser
        return Scene(f"{join}{appointment.public_token}", "This appointment was opened elsewhere")
    # The interpreter's and the guest's pages: checks, waiting to be let in, let in before the start, the meeting.
    role, _, state = name.partition("-")
    extra: dict[str, Any] = (
        {"is_interpreter_needed": True, "interpreter_language": "Polish"} if role == Role.INTERPRETER else {}
    )
    appointment = _appointment(department, **extra)
    if state == "checks":
        if role == Role.GUEST:
            person = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=None)
        else:
            person = Participant.objects.get(appointment=appointment, role=Role.INTERPRETER, revoked_at__isnull=True)
        return Scene(f"{join}{person.token}", "Your video appointment")
    person, key = _other(appointment, role)
    if state in ("admitted", "meeting"):
        participant_admit(participant=person, actor=None)
    if state == "meeting":
        claimant = _claimant(appointment)
        claimant_key = _passed(claimant)
        _ready(claimant, claimant_key)
        participant_join(participant=claimant, browser=_browser(claimant_key))
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
    heading = "Your appointment" if state == "meeting" else "You are in the waiting room"
    return Scene(f"{join}{person.token}", heading, token=person.token, browser_key=key)


STATES = [
    "early",
    "checks",
    "identity-error",
    "locked",
    "consent",
    "waiting",
    "meeting",
    "hung-up",
    "completed",
    "cancelled",
    "missed",
    "closed",
    "elsewhere",
    "interpreter-checks",
    "interpreter-waiting",
    "interpreter-admitted",
    "interpreter-meeting",
    "guest-checks",
    "guest-waiting",
    "guest-meeting",
    "not-valid",
    "too-many",
    "statement",
]

# WCAG 2.5.8: every target at least 24 by 24 CSS pixels, but a link inside a sentence (its line sets its size).
SMALL_TARGETS = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[tabindex]:not([tabindex="-1"])';
  const inSentence = (el) => getComputedStyle(el).display === 'inline' &&
    Array.from(el.parentNode.childNodes).some((n) => n !== el && n.nodeType === 3 && n.textContent.trim());
  return Array.from(document.querySelectorAll(selector))
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width < 24 || r.height < 24; })
    .filter((el) => !(el.tagName === 'A' && inSentence(el)))
    .map((el) => { const r = el.getBoundingClientRect();
      return `${el.tagName.toLowerCase()}#${el.id} "${el.textContent.trim().slice(0, 30)}" ${r.width}x${r.height}`; });
}"""

# WCAG 2.4.11: the focused element is not hidden by anything (a sticky bar, an overlay): what is drawn at its centre
# is the element itself or inside it. It must also be on the screen and have a size.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) { return null; }
  const r = el.getBoundingClientRect();
  // A link that wraps onto two lines is seen if one of its pieces is: the centre of each piece, not of its box.
  const pieces = Array.from(el.getClientRects()).filter((p) => p.width > 0 && p.height > 0);
  const hits = pieces.map((p) => document.elementFromPoint(p.left + p.width / 2, p.top + p.height / 2));
  const seen = hits.some((hit) => hit && (hit === el || el.contains(hit)));
  const name = `${el.tagName.toLowerCase()}#${el.id} "${(el.textContent || el.value || '').trim().slice(0, 30)}"`;
  const path = []; for (let n = el; n && n.parentElement; n = n.parentElement) {
    path.unshift(Array.prototype.indexOf.call(n.parentElement.children, n)); }
  return { key: path.join('.'), name: name, size: r.width > 0 && r.height > 0,
           covered: !seen, hit: hits.map((hit) => hit ? hit.tagName + '#' + hit.id : null).join(' ') };
}"""


def _focus_problems(page: Any) -> list[str]:
    """Tab from the top of the page through every focusable element, once round."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    seen: set[str] = set()
    problems = []
    for _press in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            if seen:
                break
            continue
        if focused["key"] in seen:
            break
        seen.add(focused["key"])
        if not focused["size"] or focused["covered"]:
            problems.append(f"{focused['name']} (at its centre: {focused['hit']})")
    assert seen, "nothing on the page takes the keyboard's focus"
    return problems


@pytest.fixture
def platform(settings, video_stub):  # noqa: F811
    settings.VIDEO_BASE_URL = video_stub
    return video_stub


@pytest.mark.parametrize("name", STATES)
def test_every_state_passes_wcag_22_aa_in_each_language_width_and_scheme(
    name, live_server, browser, settings, department, platform, axe_source
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = "e2e-secret-0123456789abcdef0123456789"
    settings.STATUS_POLL_SECONDS = 60  # the page stays as it is set up while it is checked
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    # The department's contact details, which every page shows (a phone link, an email link inside sentences).
    details = {"contact_phone": "+442920000000", "contact_email": "claims@example.com", "contact_hours": "9 to 5"}
    rewrite(Department.objects.filter(pk=department.pk), **details)
    scene = _scene(name, department, live_server.url)
    for setting, value in scene.settings.items():
        setattr(settings, setting, value)
    context = browser.new_context()
    context.route(
        f"{platform}/external_api.js", lambda route: route.fulfill(body=PLATFORM, content_type="text/javascript")
    )
    _hold_link(context, scene, live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    found: dict[str, Any] = {}
    try:
        for language, accept in LANGUAGES.items():
            page.set_extra_http_headers({"Accept-Language": accept})
            for width in WIDTHS:
                for scheme in SCHEMES:
                    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
                    page.emulate_media(color_scheme=scheme)
                    page.goto(scene.url)
                    _settled(page)
                    variant = f"{language} {width}px {scheme}"
                    _check_page(page, scene, language, variant, found)
                    if scene.after_load:
                        scene.after_load(page)
                    violations = accessibility_violations(page, axe_source, WCAG22_AA)
                    if violations:
                        found[f"{variant}: axe"] = violations
                    if scheme == "dark":
                        continue  # the colours alone differ: sizes and places are the light page's
                    small = page.evaluate(SMALL_TARGETS)
                    if small:
                        found[f"{variant}: targets under 24px"] = small
                    covered = _focus_problems(page)
                    if covered:
                        found[f"{variant}: focus hidden"] = covered
            # Reflow (1.4.10): at 320 CSS pixels nothing scrolls sideways.
            page.set_viewport_size({"width": 320, "height": 640})
            page.goto(scene.url)
            _settled(page)
            if scene.after_load:
                scene.after_load(page)
            wide = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if wide[0] > wide[1]:
                found[f"{language} 320px: scrolls sideways"] = wide
    finally:
        context.close()
    assert errors == []
    assert not found, "\n".join(f"{problem}: {what}" for problem, what in found.items())


def _hold_link(context: Any, scene: Scene, base: str) -> None:
    """The browser holds the link's cookie as the page would have set it (where the scene has one)."""
    if scene.browser_key:
        value = signing.get_cookie_signer(salt=f"join_browser{scene.token}").sign(scene.browser_key)
        host = urlsplit(base).hostname
        context.add_cookies([{"name": "join_browser", "value": value, "domain": host, "path": f"/join/{scene.token}"}])


def _settled(page: Any) -> None:
    """The page as a person finds it once it has loaded: a test call the browser already allowed has started (its
    self-view, level and choice of devices in place), so what is checked is the page, not a moment of its start."""
    page.wait_for_function(
        "() => { const box = document.getElementById('test-call');"
        " return !box || !box.dataset.live || box.dataset.started === '1'; }"
    )


def _check_page(page: Any, scene: Scene, language: str, variant: str, found: dict[str, Any]) -> None:
    """The page is the state asked for, in the language asked for, and links the accessibility statement."""
    if page.evaluate("document.documentElement.lang") != language:
        found[f"{variant}: lang"] = page.evaluate("document.documentElement.lang")
    if language == "en" and scene.heading not in page.inner_text("h1"):
        found[f"{variant}: heading"] = page.inner_text("h1")
    if page.locator(f"footer a[href='{STATEMENT}']").count() != 1:
        found[f"{variant}: statement link"] = "missing"
