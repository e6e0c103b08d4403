"""create_api_token: an operator issues a token from the command line."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


class TestCreateApiToken:
    def test_prints_only_the_token_as_last_line_and_stores_its_digest(self, department) -> None:
        lines = run_command("create_api_token", "integration", "--create-user", "--department", "Claims")
        token = lines[-1]
        assert token.startswith("apt_")
        assert " " not in token
        user = get_user_model().objects.get(username="integration")
        assert list(user.departments.all()) == [department]
        row = ApiToken.objects.get(user=user)
        assert token not in (row.digest, row.token_key)
        assert row.expiry is not None
        assert (row.expiry - timezone.now()).days in (364, 365)
        assert not user.has_usable_password()

    def test_the_token_authenticates(self, appointment) -> None:
        token = run_command(
            "create_api_token", "integration", "--create-user", "--department", str(appointment.department_id)
        )[-1]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get(f"/api/v1/appointments/{appointment.pk}").status_code == 200

    def test_a_group_gives_the_token_its_rights(self, department) -> None:
        """Webhook endpoints need a manager's token: --group makes one without the back office."""
        argv = ["create_api_token", "crm", "--create-user", "--department", "Claims"]
        token = run_command(*argv, "--group", "Department managers")[-1]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v1/webhooks").status_code == 200
        user = get_user_model().objects.get(username="crm")
        assert list(user.groups.values_list("name", flat=True)) == ["Department managers"]

    def test_expiry_and_superuser_options(self, db) -> None:
        run_command("create_api_token", "boss", "--create-user", "--superuser", "--expires-in-days", "0")
        user = get_user_model().objects.get(username="boss")
        assert user.is_superuser
        assert ApiToken.objects.get(user=user).expiry is None
        run_command("create_api_token", "boss", "--expires-in-days", "2")
        assert ApiToken.objects.filter(user=user).count() == 2

    def test_unknown_user_without_create_user_fails(self, db) -> None:
        with pytest.raises(CommandError, match="--create-user"):
            run_command("create_api_token", "ghost")
        assert not get_user_model().objects.filter(username="ghost").exists()

    def test_unknown_department_fails_and_creates_nothing(self, db) -> None:
        with pytest.raises(CommandError, match="No department"):
            run_command("create_api_token", "someone", "--create-user", "--department", "Nowhere")
        assert not get_user_model().objects.filter(username="someone").exists()
        assert not ApiToken.objects.exists()

    def test_negative_expiry_fails(self, db) -> None:
        with pytest.raises(CommandError):
            run_command("create_api_token", "someone", "--create-user", "--expires-in-days", "-1")
