"""A lost second factor is reset by a superuser from the users page (issue 25.2): the leaver-like counterpart of
enrolment. The libraries' own admin pages (allauth's apps, tokens, accounts and email addresses; django-otp's devices,
which show a device's secret key) are not part of the back office."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import second_factor_reset
from tests.config.test_second_factor import follow_to_second_factor, password_only
from tests.helpers import logged_in, staff

CHANGELIST = "/admin/auth/user/"


def enrolled(user: User) -> None:
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_a_superuser_resets_a_lost_factor_and_the_next_sign_in_enrols_again(department) -> None:
    root = staff("root", superuser=True)
    agent = staff("desk", department)
    enrolled(agent)
    their_session = logged_in(agent)  # adds their recovery codes, and a session verified by them
    assert len(list(devices_for_user(agent, confirmed=None))) == 2
    assert their_session.get("/admin/appointments/appointment/").status_code == 200

    response = logged_in(root).post(
        CHANGELIST, {"action": "reset_second_factor", "_selected_action": [agent.pk]}, follow=True
    )

    assert "Second factor reset for desk: 2 devices removed" in response.content.decode()
    assert list(devices_for_user(agent, confirmed=None)) == []
    assert their_session.get("/admin/appointments/appointment/").status_code == 302  # that session ended
    # The password again: no device left, so the second factor's page is the enrolment.
    client = password_only("desk")
    page = client.get(follow_to_second_factor(client)).content.decode()
    assert "<h1>Set up your second factor</h1>" in page
    assert not Session.objects.filter(session_key=their_session.session.session_key).exists()


def test_only_a_superuser_has_the_action_and_nobody_resets_their_own(department) -> None:
    manager = staff("boss", department, group="Department managers")
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    page = logged_in(manager).get(CHANGELIST).content.decode()
    assert "reset_second_factor" not in page
    root = staff("root", superuser=True)
    enrolled(root)
    root_page = logged_in(root).get(CHANGELIST).content.decode()
    assert 'value="reset_second_factor"' in root_page
    with pytest.raises(ValidationError):
        second_factor_reset(user=root, actor=root)
    response = logged_in(root).post(
        CHANGELIST, {"action": "reset_second_factor", "_selected_action": [root.pk]}, follow=True
    )
    assert "You cannot reset your own second factor." in response.content.decode()
    assert TOTPDevice.objects.filter(user=root).exists()


@pytest.mark.parametrize(
    "page",
    [
        "/admin/account/emailaddress/",
        "/admin/socialaccount/socialapp/",
        "/admin/socialaccount/socialtoken/",
        "/admin/socialaccount/socialaccount/",
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
    ],
)
def test_the_libraries_own_pages_are_not_in_the_back_office(db, page: str) -> None:
    root = staff("root", superuser=True)
    assert logged_in(root).get(page).status_code == 404
