"""A real browser (Debian's chromium, driven by Playwright) against a real HTTP server (pytest-django's
live_server). `make test` and .ci/run install chromium (and axe-core from npm, for the accessibility check);
without them these tests skip, unless REQUIRE_BROWSER=1 (CI) makes that a failure."""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop in the test's thread; Django's guard would refuse the ORM there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",  # a fake camera and microphone
]


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but there is no chromium at {CHROMIUM}")
        pytest.skip("needs Debian's chromium (installed by `make test`): not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    """Chromium whose fake camera and microphone are granted without a prompt, for the claimant's device check."""
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*_ARGS, "--use-fake-ui-for-media-stream"]
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def asking_browser(playwright_driver: Any) -> Iterator[Any]:
    """Chromium that answers camera and microphone requests as each context's permissions say: what a context was
    not granted (`new_context(permissions=[...])`) is refused, as when a visitor blocks it."""
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=_ARGS)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _contexts_closed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser context a test opened is closed when the test ends, before its database is emptied: a page
    left open (another person's browser, a desk) would go on asking the shared live server (its status poll)
    during the tests after it. Set up after pytest-django's database fixture, so torn down before it."""
    yield
    for name in ("browser", "asking_browser"):
        if name in request.fixturenames:
            for context in list(request.getfixturevalue(name).contexts):
                context.close()


def _watched(context: Any) -> Any:
    """A new page of the context that keeps its script errors and Content-Security-Policy violations; failed
    loads are kept apart with their status."""
    page = context.new_page()
    page.console_errors = []
    page.failed_responses = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            page.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on("response", lambda r: r.status >= 400 and page.failed_responses.append((r.status, r.url)))
    return page


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield _watched(context)
    context.close()


@pytest.fixture
def page_allowed(asking_browser: Any) -> Iterator[Callable[..., Any]]:
    """`page_allowed("microphone")`: a page of a new browser in which the visitor allowed only these (camera,
    microphone) and blocked the rest."""
    contexts: list[Any] = []

    def open_page(*allowed: str) -> Any:
        contexts.append(asking_browser.new_context(permissions=list(allowed)))
        return _watched(contexts[-1])

    yield open_page
    for context in contexts:
        context.close()


AXE = Path(__file__).resolve().parents[2] / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but axe-core is not installed at {AXE} (make browser installs it)")
        pytest.skip("needs axe-core from npm (installed by `make test`): not found")
    return AXE.read_text()


# axe-core's tags for WCAG 2.2 level AA (and the A and AA criteria of 2.0 and 2.1 it includes).
WCAG22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def accessibility_violations(page: Any, axe_source: str, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (run through the DevTools protocol, so
    the page's strict CSP, which forbids injected scripts, need not be loosened). With `tags` (`wcag22aa`...): only
    those rules run, and every finding counts, whatever its impact."""
    page.evaluate(axe_source)
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if tags:
        options["runOnly"] = {"type": "tag", "values": tags}
    result = page.evaluate("(options) => axe.run(document, options)", options)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if tags or v["impact"] in ("serious", "critical")
    ]
