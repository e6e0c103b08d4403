"""Single sign-on with the organisation's OpenID Connect providers (issue 25.1; django-allauth, accounts/sso/).
Imported by config.settings (every name here is a setting).

OIDC_PROVIDERS, a JSON list, one object per provider ("several providers possible"):
    [{"id": "contoso", "name": "Contoso", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
      "client_id": "...", "secret": "..."}]
Each is found by discovery (`<issuer>/.well-known/openid-configuration`); the back office's sign-in page shows a
"Sign in with your organisation" button for each. OIDC_GROUP_MAP, a JSON object, maps a value of the groups claim
(OIDC_GROUPS_CLAIM) to a department (by name) and/or a staff group ("Agents", "Department managers"):
    {"appointments-claims-agents": {"department": "Claims", "group": "Agents"}}
"""

from typing import Any
from urllib.parse import urlsplit

from config.settings.env import env_int, env_json, env_list, env_str
from config.settings.security import AUTHENTICATION_BACKENDS as _LOCAL_BACKENDS
from config.settings.security import CONTENT_SECURITY_POLICY as _LOCAL_POLICY

_providers: Any = env_json("OIDC_PROVIDERS", [])
OIDC_PROVIDERS: list[dict[str, str]] = _providers if isinstance(_providers, list) else []
_map: Any = env_json("OIDC_GROUP_MAP", {})
OIDC_GROUP_MAP: dict[str, dict[str, str]] = _map if isinstance(_map, dict) else {}
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
# How often a signed-on session is checked against its provider again (accounts/sso/session.py).
OIDC_RECHECK_SECONDS = env_int("OIDC_RECHECK_SECONDS", 900)
# Entra ID and Okta give a refresh token (needed for the re-check) only with `offline_access`: add it there.
OIDC_SCOPES = env_list("OIDC_SCOPES", ["openid", "profile", "email"])

# The session of a sign-in at the organisation is recorded under this backend, which takes no password.
SSO_BACKEND = "accounts.sso.backends.OrganisationBackend"
AUTHENTICATION_BACKENDS = [*_LOCAL_BACKENDS, SSO_BACKEND]

SOCIALACCOUNT_PROVIDERS = {
    "organisation": {
        "SCOPE": OIDC_SCOPES,
        "APPS": [
            {
                "provider_id": provider["id"],
                "name": provider.get("name", provider["id"]),
                "client_id": provider["client_id"],
                "secret": provider.get("secret", ""),
                "settings": {
                    "server_url": provider["issuer"],
                    "oauth_pkce_enabled": True,
                    "fetch_userinfo": True,
                },
            }
            for provider in OIDC_PROVIDERS
        ],
    }
}
SOCIALACCOUNT_ADAPTER = "accounts.sso.adapter.OrganisationAdapter"
# Only the organisation's sign-in: allauth's own password, sign-up and reset pages are off (the back office has
# its own password sign-in, behind the lockout and the second factor).
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never link a sign-in to a local account by its email
SOCIALACCOUNT_STORE_TOKENS = True  # the refresh token the re-check uses
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in starts from the sign-in page's form (POST, with its CSRF token)
LOGIN_REDIRECT_URL = "/admin/start/"


def policy_with_providers(policy: dict[str, Any], providers: list[dict[str, str]]) -> dict[str, Any]:
    """The CSP with each provider's origin allowed as a form's destination: the sign-in button's form posts here and
    is redirected there, and browsers apply `form-action` to that redirect too."""
    origins = sorted({"{0.scheme}://{0.netloc}".format(urlsplit(p["issuer"])) for p in providers})
    directives = dict(policy["DIRECTIVES"])
    directives["form-action"] = [*directives["form-action"], *origins]
    return {**policy, "DIRECTIVES": directives}


CONTENT_SECURITY_POLICY = policy_with_providers(_LOCAL_POLICY, OIDC_PROVIDERS)
