"""Issuing and revoking tokens: who may issue one for whom, and what a revoked token keeps."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_issue_errors, api_token_revoke
from tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def manager(department):
    user = UserFactory.create(username="manager", is_staff=True)
    department.members.add(user)
    return user


def test_a_manager_issues_a_token_for_a_user_of_their_department(manager, department) -> None:
    integration = UserFactory.create(username="integration")
    token, secret = api_token_create(
        user=integration, name="CRM", expires_in=timedelta(days=30), actor=manager, departments=[department]
    )
    assert list(integration.departments.all()) == [department]
    assert ApiToken.objects.get(pk=token.pk).name == "CRM"
    assert secret.startswith("apt_")


@pytest.mark.parametrize("reach", ["superuser", "other department", "into other department"])
def test_a_manager_cannot_mint_access_beyond_their_departments(manager, department, reach) -> None:
    elsewhere = DepartmentFactory.create(name="Elsewhere")
    user = UserFactory.create(username="target", is_superuser=reach == "superuser")
    if reach == "other department":
        elsewhere.members.add(user)
    departments = [elsewhere] if reach == "into other department" else []
    assert api_token_issue_errors(actor=manager, user=user, departments=departments)
    with pytest.raises(ValidationError):
        api_token_create(user=user, expires_in=None, actor=manager, departments=departments)
    assert not ApiToken.objects.filter(user=user).exists()
    assert not user.departments.exists() or reach == "other department"


def test_a_superuser_may_issue_any_token(department) -> None:
    root = UserFactory.create(username="root", is_superuser=True)
    wide = UserFactory.create(username="wide", is_superuser=True)
    assert api_token_issue_errors(actor=root, user=wide, departments=[department]) == {}


def test_revoking_keeps_the_row_and_stamps_the_time_once(manager) -> None:
    token, _secret = api_token_create(user=manager, expires_in=None)
    revoked = api_token_revoke(token=token)
    first = revoked.revoked_at
    assert first is not None
    assert api_token_revoke(token=revoked).revoked_at == first
    assert ApiToken.objects.filter(pk=token.pk).exists()
