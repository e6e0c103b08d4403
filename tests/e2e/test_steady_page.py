"""The claimant's page holds still while it starts (a walk found it jumping): the self-view and the choice of
camera and microphone, which start by themselves where the browser already allowed them, have their place from the
first paint, so nothing below them moves when a slow camera starts and a control the keyboard has reached stays
on the screen; the heading or step a reload focuses is on the screen, not where the browser scrolled before the
reload; and the check's button keeps the focus while it checks, where it was (what the check shows comes after it)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.test_accessibility import Scene, _hold_link, _scene, platform  # noqa: F401 (fixture)
from tests.e2e.test_claimant_journey import video_stub  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# A camera that takes its time to start, as real ones can (the fake one answers within 100 ms).
SLOW_CAMERA = """(() => {
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) =>
    new Promise((resolve) => setTimeout(resolve, 1500)).then(() => ask(constraints));
})();"""

# Where every control and heading of the page is, but the choices of devices themselves (which appear in place).
PLACES = """() => Array.from(document.querySelectorAll('main h1, main h2, a[href], button, input, select'))
  .filter((el) => !el.closest('#device-choice') && el.getClientRects().length)
  .map((el) => `${el.tagName.toLowerCase()}#${el.id} ${Math.round(el.getBoundingClientRect().top + window.scrollY)}`)"""

ON_SCREEN = """() => { const el = document.activeElement; const r = el.getBoundingClientRect();
  return { focused: el.tagName.toLowerCase() + '#' + el.id + ' ' + el.textContent.trim().slice(0, 30),
           top: r.top, bottom: r.bottom, height: window.innerHeight }; }"""


def _open(browser: Any, scene: Scene, base: str, **options: Any) -> Any:
    context = browser.new_context(**options)
    _hold_link(context, scene, base)
    return context


@contextmanager
def _started(browser: Any, department: Any, base: str, **options: Any) -> Iterator[Any]:
    """The claimant's waiting room in a browser holding its link, once its test call has started."""
    scene = _scene("waiting", department, base)
    context = _open(browser, scene, base, **options)
    try:
        page = context.new_page()
        page.goto(scene.url)
        page.wait_for_selector("#test-call[data-started='1']")
        yield page
    finally:
        context.close()


@pytest.fixture
def claimant_page(live_server, settings, platform) -> Any:  # noqa: F811
    settings.PUBLIC_BASE_URL = live_server.url
    settings.STATUS_POLL_SECONDS = 60  # the page stays as it is set up while it is looked at
    return live_server.url


@pytest.mark.parametrize("name", ["consent", "waiting"])
@pytest.mark.parametrize("width", [1366, 390])
def test_nothing_moves_when_a_slow_camera_starts(claimant_page, browser, department, name: str, width: int) -> None:
    scene = _scene(name, department, claimant_page)
    context = _open(browser, scene, claimant_page, viewport={"width": width, "height": 900 if width > 400 else 844})
    context.add_init_script(SLOW_CAMERA)
    try:
        page = context.new_page()
        page.goto(scene.url)
        before = page.evaluate(PLACES)
        page.wait_for_selector("#test-call[data-started='1']")
        page.wait_for_function("() => document.getElementById('preview').readyState >= 2")
        after = page.evaluate(PLACES)
        shown = page.is_visible("#preview") and page.is_visible("#camera-choice")
    finally:
        context.close()
    assert shown
    assert before == after


@pytest.mark.parametrize("name", ["checks", "consent"])
@pytest.mark.parametrize(("width", "language"), [(1366, "en"), (390, "cy")])
def test_the_check_does_not_move_its_own_button(
    claimant_page, browser, department, name: str, width: int, language: str
) -> None:
    """The first check and "Check again": what the check shows (its result, the self-view, the test call) comes
    after its button, so the button the person pressed stays where it was (it went 500 px down, off the screen)."""
    scene = _scene(name, department, claimant_page)
    context = _open(browser, scene, claimant_page, viewport={"width": width, "height": 900 if width > 400 else 844})
    context.add_init_script(SLOW_CAMERA)
    try:
        page = context.new_page()
        page.set_extra_http_headers({"Accept-Language": language})
        page.goto(scene.url)
        if name == "consent":
            page.wait_for_selector("#test-call[data-started='1']")
        place = "() => document.getElementById('device-check').getBoundingClientRect().top + window.scrollY"
        page.focus("#device-check")
        pressed_at = page.evaluate(place)
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('device-result').textContent !== ''")
        page.wait_for_function(
            "() => !document.getElementById('preview').hidden && !!document.getElementById('preview').srcObject"
        )
        page.wait_for_function("() => !document.getElementById('device-choice').hidden")
        checking_at = page.evaluate(place)
        seen = page.evaluate(ON_SCREEN)
    finally:
        context.close()
    assert checking_at == pressed_at
    assert seen["focused"].startswith("button#device-check"), seen
    assert 0 <= seen["top"] < seen["bottom"] <= seen["height"], seen


@pytest.mark.parametrize("width", [1366, 390])
def test_the_places_are_kept_before_the_script_runs(claimant_page, browser, department, width: int) -> None:
    """The page as first drawn, before the test call's script has run (here: never), has the self-view's and the
    choices' places already: the page once started is laid out the same."""
    scene = _scene("waiting", department, claimant_page)
    viewport = {"width": width, "height": 900 if width > 400 else 844}
    places = []
    for script in (False, True):
        context = _open(browser, scene, claimant_page, viewport=viewport)
        if not script:
            context.route("**/test_call*.js", lambda route: route.abort())
        try:
            page = context.new_page()
            page.goto(scene.url)
            if script:
                page.wait_for_selector("#test-call[data-started='1']")
            places.append(page.evaluate(PLACES))
        finally:
            context.close()
    assert places[0] == places[1]


def test_the_camera_and_its_choices_leave_no_gap_where_the_browser_does_not_allow_them(
    claimant_page, asking_browser, department
) -> None:
    """Their places are kept only while they start: a browser that no longer allows the camera shows neither."""
    scene = _scene("waiting", department, claimant_page)
    context = _open(asking_browser, scene, claimant_page, permissions=[])
    try:
        page = context.new_page()
        page.goto(scene.url)
        page.wait_for_function("() => document.getElementById('preview').hidden")
        page.wait_for_function("() => document.getElementById('device-choice').hidden")
        started = page.get_attribute("#test-call", "data-started")
    finally:
        context.close()
    assert started is None


@pytest.mark.parametrize("width", [1366, 390])
def test_after_a_step_the_focused_heading_is_on_the_screen(claimant_page, browser, department, width: int) -> None:
    """Joining the waiting room from the bottom of the page: the reloaded page focuses its heading, and the browser
    does not then scroll back to where the person was on the page before (it did: the heading above the window)."""
    scene = _scene("consent", department, claimant_page)
    context = _open(browser, scene, claimant_page, viewport={"width": width, "height": 900 if width > 400 else 844})
    context.add_init_script(SLOW_CAMERA)
    try:
        page = context.new_page()
        page.goto(scene.url)
        page.wait_for_selector("#test-call[data-started='1']")
        page.check("#consent-yes")
        page.click("#consent-form button[type=submit]")
        page.wait_for_selector("#step-consent.done")
        page.wait_for_selector("#test-call[data-started='1']")
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        page.click("#join-form button[type=submit]")
        page.wait_for_selector("h1:has-text('You are in the waiting room')")
        page.wait_for_selector("#test-call[data-started='1']")
        page.wait_for_timeout(300)  # the browser's own scrolling after a load, had it kept its place
        seen = page.evaluate(ON_SCREEN)
    finally:
        context.close()
    assert seen["focused"].startswith("h1#"), seen
    assert 0 <= seen["top"] < seen["bottom"] <= seen["height"], seen


def test_the_check_keeps_the_focus_on_its_button_while_it_checks(claimant_page, browser, department) -> None:
    scene = _scene("checks", department, claimant_page)
    context = _open(browser, scene, claimant_page)
    context.add_init_script(SLOW_CAMERA)
    try:
        page = context.new_page()
        page.goto(scene.url)
        page.focus("#device-check")
        page.keyboard.press("Enter")
        page.wait_for_selector("#device-result:has-text('Checking')")
        checking = page.evaluate(
            "() => [document.activeElement.id, document.activeElement.getAttribute('aria-disabled')]"
        )
        page.keyboard.press("Enter")  # pressed again while it checks: nothing more happens
        page.wait_for_selector("#step-device.done", timeout=20_000)
    finally:
        context.close()
    assert checking == ["device-check", "true"]


def test_the_self_view_keeps_its_size_when_the_cameras_picture_arrives(claimant_page, browser, department) -> None:
    """The self-view's box is the same before the camera's first frame and after it: nothing below it moves, so a
    control the keyboard has just reached (the camera's choice, below it) stays where it was, on the screen."""
    with _started(browser, department, claimant_page, viewport={"width": 1366, "height": 900}) as page:
        page.wait_for_function("() => document.getElementById('preview').readyState >= 2")
        # The picture's own shape (the fake camera's 640 by 480) against an empty self-view's, side by side.
        sizes = page.evaluate(
            """() => {
              const live = document.getElementById('preview');
              const empty = live.cloneNode(false);
              empty.removeAttribute('id');
              empty.hidden = false;
              live.after(empty);
              const size = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
              return { live: size(live), empty: size(empty), picture: [live.videoWidth, live.videoHeight] };
            }"""
        )
    assert min(sizes["picture"]) > 0
    assert sizes["live"][1] > 0
    assert sizes["live"] == sizes["empty"], sizes


def test_every_control_shows_the_pages_own_focus_ring_and_room_for_it(claimant_page, browser, department) -> None:
    """Tabbing through the waiting room at 390 px: each control the keyboard reaches (the camera's choice too: it
    had only the browser's thin ring) has the page's 3 px ring, and the whole of it is on the screen."""
    with _started(browser, department, claimant_page, viewport={"width": 390, "height": 844}) as page:
        rings = []
        for _press in range(40):
            page.keyboard.press("Tab")
            ring = page.evaluate(
                """() => { const el = document.activeElement;
                  if (el === document.body || el.dataset.seen) { return null; }
                  el.dataset.seen = '1'; const style = getComputedStyle(el);
                  const r = el.getBoundingClientRect(); const out = parseFloat(style.outlineWidth) +
                  parseFloat(style.outlineOffset);
                  return [el.tagName.toLowerCase() + '#' + el.id, style.outlineStyle, style.outlineWidth,
                          r.top - out >= 0 && r.bottom + out <= window.innerHeight]; }"""
            )
            if ring is None:
                break
            rings.append(ring)
    assert "select#camera-choice" in [ring[0] for ring in rings]
    wrong = [ring for ring in rings if ring[1:] != ["solid", "3px", True]]
    assert wrong == [], wrong


# Every request for the camera or the microphone the page makes, as asked.
ASKED = """(() => {
  window.__asked = [];
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    window.__asked.push({ video: !!constraints.video, audio: !!constraints.audio });
    return ask(constraints);
  };
})();"""


def test_a_browser_that_allows_only_the_microphone_is_not_asked_for_the_camera(
    claimant_page, asking_browser, department
) -> None:
    """The test call starts by itself only with what the browser already allows (no prompt out of the blue): with
    the camera no longer allowed, it asks for the microphone alone, and the self-view's place stays given back."""
    scene = _scene("waiting", department, claimant_page)
    context = _open(asking_browser, scene, claimant_page, permissions=["microphone"])
    context.add_init_script(ASKED)
    try:
        page = context.new_page()
        page.goto(scene.url)
        page.wait_for_selector("#test-call[data-started='1']")
        before = page.evaluate(PLACES)
        page.wait_for_timeout(500)
        asked = page.evaluate("() => window.__asked")
        after = page.evaluate(PLACES)
        preview_hidden = page.evaluate("() => document.getElementById('preview').hidden")
    finally:
        context.close()
    assert asked == [{"video": False, "audio": True}]
    assert preview_hidden
    assert before == after
