"""Single sign-on through a real OpenID Connect provider (issue 25.1 and 25.4): django-oauth-toolkit's provider in
a project of its own on a local port (tests/idp/), signed in through in a real browser. Discovery, the authorisation
code with PKCE and a nonce, the ID token checked; the claims give the departments and the staff group; after the
provider drops a group, the next check (OIDC_RECHECK_SECONDS later; the clock moved by less than the ID
token's life, which the check verifies) takes the membership away, and with no group
left, the back office (a leaver: deactivated)."""

import sqlite3
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.factories import DepartmentFactory, make_appointment
from tests.idp.harness import PROVIDER_ID, running_provider

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/admin/appointments/appointment/"
ALL = f"{LIST}?show=all"
GROUP_MAP = {
    "claims-agents": {"department": "Claims", "group": "Agents"},
    "billing-agents": {"department": "Billing", "group": "Agents"},
}


def test_sign_in_through_the_organisation_then_lose_access_at_the_next_check(
    live_server, browser: Any, settings, tmp_path, axe_source: str
) -> None:
    claims, billing = DepartmentFactory.create(name="Claims"), DepartmentFactory.create(name="Billing")
    soon = timezone.now() + timedelta(minutes=20)
    ours = make_appointment(claims, appointment_at=soon, claimant={"name": "Ada Lovelace"})
    theirs = make_appointment(billing, appointment_at=soon, claimant={"name": "Alan Turing"})
    base = live_server.url
    with running_provider(tmp_path, base, [("ann", "idp password", ["claims-agents", "billing-agents"])]) as idp:
        for name, value in idp.settings_for(GROUP_MAP).items():
            setattr(settings, name, value)
        settings.OIDC_RECHECK_SECONDS = 60
        context = browser.new_context()
        page = _watched(context)
        asked: list[str] = []

        def keep_authorisation_request(request: Any) -> None:
            if request.url.startswith(f"{idp.issuer}/authorize"):
                asked.append(request.url)

        page.on("request", keep_authorisation_request)
        try:
            page.goto(f"{base}/admin/login/")
            assert accessibility_violations(page, axe_source, WCAG22_AA) == []
            page.click(f"#sign-in-{PROVIDER_ID}")
            page.wait_for_url(f"{idp.base}/login/**")
            page.fill("#id_username", "ann")
            page.fill("#id_password", "idp password")
            page.click("#idp-sign-in")
            page.wait_for_url(f"{base}{LIST}")

            # The authorisation request carried PKCE (S256) and a nonce; the provider requires PKCE anyway.
            query = parse_qs(urlsplit(asked[0]).query)
            assert query["code_challenge_method"] == ["S256"]
            assert query["code_challenge"][0]
            assert query["nonce"][0]
            assert query["state"][0]
            # The agent's today list, with both departments the claims gave, and no second factor asked.
            user = User.objects.get(socialaccount__uid__isnull=False)
            assert user.is_staff
            assert not user.is_superuser
            assert {d.name for d in user.departments.all()} == {"Claims", "Billing"}
            assert list(user.groups.values_list("name", flat=True)) == ["Agents"]
            assert page.inner_text("#content h1") == "Today"
            # Every appointment they reach (the list's "All": "today" would depend on the hour the test runs).
            page.goto(f"{base}{ALL}")
            listed = page.inner_text("#result_list")
            assert ours.reference in listed
            assert theirs.reference in listed

            # The provider drops the Claims group; until the next check nothing changes, then the membership goes.
            idp.set_groups("ann", ["billing-agents"])
            page.goto(f"{base}{ALL}")
            assert ours.reference in page.inner_text("#result_list")
            with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
                page.goto(f"{base}{ALL}")
                listed = page.inner_text("#result_list")
                assert ours.reference not in listed
                assert theirs.reference in listed
                assert {d.name for d in user.departments.all()} == {"Billing"}

                # No group left at the provider: at the next check, the back office is gone.
                idp.set_groups("ann", [])
                with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
                    page.goto(f"{base}{LIST}")
                    page.wait_for_url(f"{base}/admin/login/**")
                    user.refresh_from_db()
                    # A leaver: deactivated in the same step (sessions, tokens; accounts.services.user_deactivate).
                    assert user.is_active is False
                    assert user.is_staff is False
                    assert not user.departments.exists()
                    assert not Session.objects.exists()
            assert page.console_errors == []
        finally:
            context.close()


def test_a_session_the_provider_no_longer_vouches_for_is_signed_out(live_server, browser, settings, tmp_path) -> None:
    DepartmentFactory.create(name="Claims")
    base = live_server.url
    with running_provider(tmp_path, base, [("ann", "idp password", ["claims-agents"])]) as idp:
        for name, value in idp.settings_for(GROUP_MAP).items():
            setattr(settings, name, value)
        settings.OIDC_RECHECK_SECONDS = 60
        context = browser.new_context()
        page = context.new_page()
        try:
            page.goto(f"{base}/admin/login/")
            page.click(f"#sign-in-{PROVIDER_ID}")
            page.fill("#id_username", "ann")
            page.fill("#id_password", "idp password")
            page.click("#idp-sign-in")
            page.wait_for_url(f"{base}{LIST}")
            session = [c for c in context.cookies() if c["name"] == "sessionid"]
            assert session
            # The grant is revoked at the provider (the account disabled there): the refresh is refused.
            with sqlite3.connect(idp.database) as db:
                db.execute("DELETE FROM oauth2_provider_refreshtoken")
            with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
                page.goto(f"{base}{LIST}")
                page.wait_for_url(f"{base}/admin/login/**")
            assert not Session.objects.filter(session_key=session[0]["value"]).exists()
        finally:
            context.close()
