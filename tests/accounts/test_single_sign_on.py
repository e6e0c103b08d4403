"""The organisation's ID tokens and claims (issue 25.1, 25.4), against the real test provider (tests/idp/): its
discovery and published keys are used to check each token's signature, issuer, audience and expiry; a forged or
expired token is refused; the nonce must be the sign-in's; the groups claim maps to departments and staff groups
on every sign-in, a group lost is a membership removed."""

import time
from typing import Any

import jwt
import pytest
import requests
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib.auth.models import Group

from accounts.services import api_token_create
from accounts.sso.adapter import nonce_matches
from accounts.sso.memberships import access_from_claims, memberships_apply
from accounts.sso.provider import verified_id_token
from tests.factories import DepartmentFactory, UserFactory
from tests.idp.harness import CLIENT_ID, new_key, running_provider

GROUP_MAP = {
    "claims-agents": {"department": "Claims", "group": "Agents"},
    "claims-managers": {"department": "Claims", "group": "Department managers"},
    "billing": {"department": "Billing"},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Any:
    with running_provider(tmp_path_factory.mktemp("idp"), "http://127.0.0.1:1", [("ann", "pw", [])]) as idp:
        config = requests.get(f"{idp.issuer}/.well-known/openid-configuration", timeout=10).json()
        kid = requests.get(config["jwks_uri"], timeout=10).json()["keys"][0]["kid"]
        yield idp, config, kid


def token(key: Any, kid: str, config: dict[str, Any], **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": config["issuer"], "aud": CLIENT_ID, "sub": "1", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def test_discovery_names_the_provider_and_its_keys(provider) -> None:
    idp, config, _kid = provider
    assert config["issuer"] == idp.issuer
    assert config["jwks_uri"].startswith(idp.base)
    assert "S256" in config["code_challenge_methods_supported"]


def test_a_token_signed_by_the_provider_is_accepted(provider) -> None:
    idp, config, kid = provider
    claims = verified_id_token(config, CLIENT_ID, token(idp.key, kid, config, nonce="n"))
    assert claims["sub"] == "1"


@pytest.mark.parametrize("wrong", ["forged signature", "expired", "other audience", "other issuer", "no signature"])
def test_a_forged_or_expired_token_is_refused(provider, wrong: str) -> None:
    idp, config, kid = provider
    if wrong == "forged signature":
        credential = token(new_key(), kid, config)  # the provider's key id, someone else's key
    elif wrong == "expired":
        credential = token(idp.key, kid, config, iat=int(time.time()) - 900, exp=int(time.time()) - 600)
    elif wrong == "other audience":
        credential = token(idp.key, kid, config, aud="another-client")
    elif wrong == "other issuer":
        credential = token(idp.key, kid, config, iss="http://127.0.0.1:1/o")
    else:
        credential = jwt.encode({"iss": config["issuer"], "aud": CLIENT_ID, "sub": "1"}, "", algorithm="none")
    with pytest.raises(OAuth2Error):
        verified_id_token(config, CLIENT_ID, credential)


def test_the_nonce_must_be_the_sign_ins_own() -> None:
    assert nonce_matches({"nonce": "abc"}, {"nonce": "abc"}) is True
    assert nonce_matches({"nonce": "abc"}, {"nonce": "other"}) is False
    assert nonce_matches({"nonce": "abc"}, {}) is False
    assert nonce_matches({}, {"nonce": None}) is False
    assert nonce_matches(None, None) is False


def test_claims_map_to_departments_and_groups_and_a_lost_group_is_removed(db, settings) -> None:
    settings.OIDC_GROUP_MAP = GROUP_MAP
    claims, billing = DepartmentFactory.create(name="Claims"), DepartmentFactory.create(name="Billing")
    user = UserFactory.create(username="ann")
    kept = Group.objects.create(name="Hand-made")
    user.groups.add(kept)
    memberships_apply(user=user, claims={"groups": ["claims-managers", "billing", "unknown"]})
    assert set(user.departments.all()) == {claims, billing}
    assert set(user.groups.values_list("name", flat=True)) == {"Department managers", "Hand-made"}
    assert user.is_staff is True
    memberships_apply(user=user, claims={"groups": ["claims-agents"]})
    assert set(user.departments.all()) == {claims}
    assert set(user.groups.values_list("name", flat=True)) == {"Agents", "Hand-made"}
    token, _secret = api_token_create(user=user, expires_in=None)
    memberships_apply(user=user, claims={"groups": []})
    user.refresh_from_db()
    assert not user.departments.exists()
    assert user.is_staff is False
    # No group left: a leaver, deactivated with everything else of theirs.
    assert user.is_active is False
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert set(user.groups.values_list("name", flat=True)) == {"Hand-made"}


@pytest.mark.parametrize("claim", [None, "claims-agents", 42, {"a": 1}, ["claims-agents", None, 7]])
def test_odd_claims_give_what_they_name_and_nothing_else(claim, settings) -> None:
    settings.OIDC_GROUP_MAP = GROUP_MAP
    access = access_from_claims({"groups": claim})
    assert access.groups == (
        frozenset({"Agents"}) if claim in ("claims-agents", ["claims-agents", None, 7]) else frozenset()
    )


def test_a_superuser_is_never_changed_by_a_claim(db, settings) -> None:
    settings.OIDC_GROUP_MAP = GROUP_MAP
    root = UserFactory.create(username="root", is_superuser=True, is_staff=True)
    memberships_apply(user=root, claims={"groups": []})
    root.refresh_from_db()
    assert root.is_staff is True
