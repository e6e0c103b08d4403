"""The sign-in page with passwords kept for the break-glass account (PASSWORDS_FOR_SUPERUSERS_ONLY), in a real
browser: the organisation's button comes first for the keyboard, the password form is said to be the
administrator's, and a staff member's password is refused there. 390 px wide, dark, axe-core's WCAG 2.2 AA rules,
no console error and no CSP violation."""

from typing import Any

import pytest

from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.helpers import PASSWORD, staff

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def test_the_organisation_first_and_the_password_for_the_administrator(
    settings: Any, live_server: Any, browser: Any, department, axe_source: str
) -> None:
    settings.PASSWORDS_FOR_SUPERUSERS_ONLY = True
    settings.OIDC_PROVIDERS = [{"id": "contoso", "name": "Contoso", "issuer": "https://id.example", "client_id": "x"}]
    staff("desk", department)
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    try:
        page = _watched(context)
        page.goto(f"{live_server.url}/admin/login/")
        assert "Only for the break-glass administrator" in page.inner_text("#break-glass-help")
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        # The keyboard meets the organisation's button before the password form.
        order = []
        for _ in range(12):
            page.keyboard.press("Tab")
            order.append(page.evaluate("() => document.activeElement.id"))
        assert order.index("sign-in-contoso") < order.index("id_username")

        page.fill("#id_username", "desk")
        page.fill("#id_password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector(".errornote")
        assert page.url.startswith(f"{live_server.url}/admin/login/")
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        assert page.console_errors == []
    finally:
        context.close()
