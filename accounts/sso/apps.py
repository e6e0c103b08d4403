from django.apps import AppConfig


class SsoConfig(AppConfig):
    """Single sign-on with the organisation's OpenID Connect provider (issue 25.1): allauth's provider of ours
    (provider.py), the claims mapped to memberships (memberships.py), the session checked again (middleware.py)."""

    name = "accounts.sso"
    label = "sso"

    def ready(self) -> None:
        from accounts.sso import receivers  # noqa: F401 (connects to allauth's signals)
