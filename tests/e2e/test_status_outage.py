"""The claimant's page through a database outage, in a real browser against a real server: gunicorn reaches
PostgreSQL through a proxy the test cuts, so the page's status poll is answered 503 (with Retry-After). The page
must not break or reload into the bare error page: it says calmly that it cannot reach the service and keeps
trying, less often; once the database answers again the notice goes and the page carries on where it was."""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from appointments.models import Appointment
from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.helpers import TcpProxy, postgres_only
from tests.support import database_env, gunicorn

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
NOTICE = "We cannot reach the service just now"


def test_the_claimants_page_rides_out_a_database_outage(page: Any, appointment: Appointment, axe_source) -> None:
    database = connection.settings_dict
    with TcpProxy((database["HOST"], int(database["PORT"]))) as proxy:
        through_proxy = urlsplit(database_env()["DATABASE_URL"])
        env = {
            "DATABASE_URL": urlunsplit(through_proxy._replace(netloc=f"postgres@127.0.0.1:{proxy.port}")),
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATUS_POLL_SECONDS": "2",
            "PUBLIC_PAGE_RATE_PER_MINUTE": "100000",
        }
        with gunicorn(env) as port:
            polls: list[int] = []
            navigations: list[str] = []

            def on_response(response: Any) -> None:
                if "/status" in response.url:
                    polls.append(response.status)

            def on_navigation(frame: Any) -> None:
                if frame == page.main_frame:
                    navigations.append(frame.url)

            page.on("response", on_response)
            page.on("framenavigated", on_navigation)
            page.goto(f"http://127.0.0.1:{port}/join/{appointment.public_token}")
            heading = page.inner_text("h1")
            page.wait_for_function(
                "() => performance.getEntriesByType('resource').some(e => e.name.includes('/status'))"
            )
            assert page.is_hidden("#connection-notice")

            proxy.cut()
            page.wait_for_selector(f"#connection-notice:has-text('{NOTICE}')", timeout=20_000)
            assert page.get_attribute("#connection-notice", "role") == "status"
            failed_before = polls.count(503)
            # It keeps asking while the database is down.
            _wait(lambda: polls.count(503) > failed_before, page, 20)
            assert page.inner_text("h1") == heading  # the page it was on, not the bare error page
            assert accessibility_violations(page, axe_source, WCAG22_AA) == []

            proxy.restore()
            page.wait_for_selector("#connection-notice", state="hidden", timeout=45_000)
            assert polls[-1] in (200, 304)
            assert page.inner_text("h1") == heading
    assert 503 in polls
    assert navigations == [navigations[0]]  # loaded once: no reload loop, no error page
    assert page.console_errors == []


def _wait(condition: Any, page: Any, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page stopped polling")
