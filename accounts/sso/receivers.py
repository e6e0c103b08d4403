"""On every sign-in through the organisation: the claims applied to the memberships, and the time of the check
kept in the session (middleware.py checks again from then on)."""

from typing import Any

from allauth.account.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.sso.memberships import memberships_apply
from accounts.sso.session import claims_of, mark_checked


@receiver(user_logged_in, dispatch_uid="accounts.sso.signed_in")
def signed_in(sender: Any, request: HttpRequest, user: Any, sociallogin: Any = None, **kwargs: Any) -> None:
    if sociallogin is None or sociallogin.provider.id != "organisation":
        return
    memberships_apply(user=user, claims=claims_of(sociallogin.account.extra_data))
    mark_checked(request, sociallogin.account.provider)
