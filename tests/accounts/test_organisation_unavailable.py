"""The organisation's sign-in when its provider cannot be reached (a fresh-eyes walk found a server error): the
button leads to a page of the back office that says so, with a way back, answered 503 with Retry-After (the
callback's token exchange goes through the same wrapper, accounts/sso/views.py). Nothing listens on the provider's
port."""

import socket

import pytest
from django.test import Client

from config.settings.security import CONTENT_SECURITY_POLICY as LOCAL_POLICY
from config.settings.sso import policy_with_providers
from tests.idp.harness import CLIENT_ID, PROVIDER_ID

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_provider_is_said_not_raised(settings) -> None:
    issuer = f"http://127.0.0.1:{closed_port()}/o"
    provider = {"id": PROVIDER_ID, "name": "Test IdP", "issuer": issuer, "client_id": CLIENT_ID}
    settings.OIDC_PROVIDERS = [provider]
    settings.CONTENT_SECURITY_POLICY = policy_with_providers(LOCAL_POLICY, [provider])
    settings.SOCIALACCOUNT_PROVIDERS = {
        "organisation": {
            "SCOPE": ["openid"],
            "APPS": [
                {
                    "provider_id": PROVIDER_ID,
                    "name": "Test IdP",
                    "client_id": CLIENT_ID,
                    "secret": "s",
                    "settings": {"server_url": issuer, "oauth_pkce_enabled": True},
                }
            ],
        }
    }
    answer = Client().post(f"/accounts/organisation/{PROVIDER_ID}/login/")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "60"
    page = answer.content.decode()
    assert "could not be reached just now" in page
    assert 'href="/admin/login/"' in page
