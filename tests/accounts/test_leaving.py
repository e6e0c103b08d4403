"""Leaving revokes everything (issue 25.3): one deactivation, from any door (the service, the back office's action
and user page, `manage.py deactivate_user`), ends the leaver's sessions, revokes their API tokens (kept on record),
refuses their join as agent, ends what the apps registered (the calendar feed), and lists their appointments that
have not started under "Needs attention"."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, user_deactivate
from appointments.models import Status
from appointments.services import appointment_update
from desk.feed import feed_issue
from desk.models import CalendarFeed
from tests.factories import in_days, make_appointment
from tests.helpers import logged_in, run_command, staff, walk_to

CHANGELIST = "/admin/auth/user/"


def _by_service(root: User, leaver: User) -> None:
    user_deactivate(user=leaver, actor=root)


def _by_admin_action(root: User, leaver: User) -> None:
    response = logged_in(root).post(CHANGELIST, {"action": "deactivate", "_selected_action": [leaver.pk]})
    assert response.status_code == 302


def _by_user_page(root: User, leaver: User) -> None:
    client = logged_in(root)
    page = reverse("admin:auth_user_change", args=[leaver.pk])
    form = client.get(page).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "groups": [g.pk for g in leaver.groups.all()],
            "user_permissions": [],
            "is_staff": "on",
            "last_login_0": "",
        }
    )
    data = {k: v for k, v in data.items() if k not in ("last_login", "date_joined", "is_superuser")}
    response = client.post(page, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


def _by_command(root: User, leaver: User) -> None:
    lines = run_command("deactivate_user", leaver.username)
    assert lines[0] == "desk deactivated: 2 session(s) ended, 2 API token(s) revoked."
    assert "calendar feeds: 1 ended." in lines
    assert "1 appointment(s) to reassign" in lines[-2]


DOORS: dict[str, Callable[[User, User], None]] = {
    "service": _by_service,
    "back office action": _by_admin_action,
    "user page": _by_user_page,
    "command": _by_command,
}


@pytest.mark.parametrize("door", DOORS)
def test_one_deactivation_ends_sessions_tokens_join_and_feed(door, department) -> None:
    root = staff("root", superuser=True)
    leaver = staff("desk", department)
    colleague = staff("colleague", department)
    upcoming = make_appointment(department, agent_id=leaver.pk)
    earlier = walk_to(make_appointment(department, agent_id=leaver.pk, appointment_at=in_days(3)), Status.CANCELLED)
    desk, laptop, theirs = logged_in(leaver), logged_in(leaver), logged_in(colleague)
    meeting = reverse("admin:appointments_appointment_meeting", args=[upcoming.pk])
    assert desk.get(meeting).status_code == 200  # the agent's join works before
    _, secret = api_token_create(user=leaver, expires_in=None, name="CRM")
    _, other_secret = api_token_create(user=leaver, expires_in=timedelta(days=1), name="Laptop")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/departments").status_code == 200
    feed = f"/calendar/{feed_issue(user=leaver)}.ics"  # issue 24.6's calendar feed, registered in config.leaving
    theirs_feed = f"/calendar/{feed_issue(user=colleague)}.ics"
    assert Client().get(feed).status_code == 200

    DOORS[door](root, leaver)

    leaver.refresh_from_db()
    assert leaver.is_active is False
    # Sessions: the rows are gone, and both browsers are signed out; a colleague's session is untouched.
    assert Session.objects.count() == (2 if door in ("back office action", "user page") else 1)
    for browser in (desk, laptop):
        answer = browser.get(meeting)  # the join as agent is refused: to the sign-in page
        assert answer.status_code == 302
        assert answer["Location"].startswith("/admin/login/")
    assert theirs.get(meeting).status_code == 200
    # Tokens: kept on record, revoked, and answering 401.
    assert ApiToken.objects.filter(user=leaver).count() == 2
    assert not ApiToken.objects.filter(user=leaver, revoked_at__isnull=True).exists()
    for token in (secret, other_secret):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.get("/api/v1/departments").status_code == 401
    # The calendar feed (registered in config.leaving) is gone and its address answers 404; a colleague's works.
    assert not CalendarFeed.objects.filter(user=leaver).exists()
    assert Client().get(feed).status_code == 404
    assert Client().get(theirs_feed).status_code == 200
    # Needs attention lists the appointment that has not started, for a manager to reassign; not the cancelled one.
    listed = logged_in(root).get("/admin/appointments/appointment/", {"show": "attention"})
    shown = {row.pk for row in listed.context["cl"].result_list}
    assert upcoming.pk in shown
    assert earlier.pk not in shown


def test_the_service_returns_what_to_reassign_and_is_idempotent(department) -> None:
    leaver = staff("desk", department)
    upcoming = make_appointment(department, agent_id=leaver.pk)
    logged_in(leaver)
    first = user_deactivate(user=leaver)
    assert (first.sessions_ended, first.tokens_revoked) == (1, 0)
    assert [a.pk for a in first.to_reassign] == [upcoming.pk]
    # A token made after, by hand or a race, is revoked by deactivating again.
    token, _ = api_token_create(user=leaver, expires_in=None)
    again = user_deactivate(user=leaver)
    assert (again.sessions_ended, again.tokens_revoked) == (0, 1)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_deactivates_themselves(department) -> None:
    root = staff("root", superuser=True)
    with pytest.raises(ValidationError):
        user_deactivate(user=root, actor=root)
    client = logged_in(root)
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [root.pk]})
    root.refresh_from_db()
    assert root.is_active is True
    assert client.get("/admin/").status_code == 200


def test_a_reassigned_appointment_leaves_needs_attention(department) -> None:
    root = staff("root", superuser=True)
    leaver, colleague = staff("desk", department), staff("colleague", department)
    upcoming = make_appointment(department, agent_id=leaver.pk)
    user_deactivate(user=leaver, actor=root)
    client = logged_in(root)
    listed = client.get("/admin/appointments/appointment/", {"show": "attention"})
    assert upcoming.pk in {row.pk for row in listed.context["cl"].result_list}
    appointment_update(appointment=upcoming, data={"agent_id": colleague.pk}, actor=root)
    listed = client.get("/admin/appointments/appointment/", {"show": "attention"})
    assert upcoming.pk not in {row.pk for row in listed.context["cl"].result_list}
    assert Client().get("/admin/").status_code == 302
