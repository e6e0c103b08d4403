"""Whether a password kept here may sign in (issue 25.1's switch). With PASSWORDS_FOR_SUPERUSERS_ONLY on, staff
sign in through their organisation's identity provider, and the only password the back office takes is a
superuser's: the break-glass account, for the day the provider is down or misconfigured. Off by default (an
organisation without single sign-on has only passwords).

The switch is one rule read at two moments: at sign-in (`BreakGlassOnlyBackend`, between django-axes' backend and
Django's, so a refused password counts towards the lockout like a wrong one) and on every back-office request
(`password_session_allowed`, which the admin site asks), so turning it on ends the password sessions of everyone
else at their next request, without waiting for them to expire.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def passwords_for_superusers_only() -> bool:
    return bool(settings.PASSWORDS_FOR_SUPERUSERS_ONLY)


class BreakGlassOnlyBackend:
    """Refuses a password sign-in of anyone but a superuser while the switch is on; otherwise has no say. It signs
    nobody in, so it has no `get_user` (Django's BaseBackend would give one, and the test client's `force_login`
    would then record its sessions under this backend, which finds nobody)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if not passwords_for_superusers_only() or username is None or password is None:
            return None
        users = get_user_model()._default_manager
        if users.filter(**{get_user_model().USERNAME_FIELD: username, "is_superuser": True}).exists():
            return None  # Django's backend checks the password as usual
        # As long as checking a password takes, so the answer's timing does not tell who is a superuser.
        get_user_model()().set_password(password)
        raise PermissionDenied  # Django stops here and reports a failed sign-in (which django-axes counts)


def password_session_allowed(request: HttpRequest) -> bool:
    """Whether this session may open the back office as far as the switch goes: a session of the organisation's
    sign-in always, a password's only a superuser's while the switch is on."""
    if not passwords_for_superusers_only():
        return True
    if request.session.get(BACKEND_SESSION_KEY) == settings.SSO_BACKEND:
        return True
    return bool(request.user.is_superuser)


class BackOfficeSignInForm(AdminAuthenticationForm):
    """The admin's sign-in form; while passwords are kept for the break-glass account, its refusal says whose
    password it takes and where staff sign in (one message for every refusal, so it tells nobody which names are
    superusers), and the organisation's button, above it, is where the keyboard starts (no autofocus here)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if passwords_for_superusers_only():
            self.fields["username"].widget.attrs.pop("autofocus", None)
            self.error_messages = {
                **self.error_messages,
                "invalid_login": (
                    "Please enter the correct username and password of the break-glass administrator account. "
                    "Staff sign in with their organisation's account, above."
                ),
            }
