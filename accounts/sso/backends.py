"""The backend a single sign-on session is recorded under: allauth picks a backend of its class for the sessions it
signs in, and this one takes no password, so a password typed into the back office's form is only ever checked
by Django's own backend (behind the lockout), and only a session signed in at the organisation carries this name
(config.second_factor does not ask it for a second factor)."""

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend


class OrganisationBackend(AuthenticationBackend):
    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None
