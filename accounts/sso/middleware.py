"""Checks a single sign-on session again once OIDC_RECHECK_SECONDS have passed since its last check (session.py),
on back-office requests; a session the provider no longer vouches for is signed out."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.sso.session import due, recheck


class RecheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        checking = request.path.startswith("/admin/") and request.user.is_authenticated and due(request)
        if checking and not recheck(request):
            logout(request)
            messages.info(request, "Please sign in again with your organisation.")
            return HttpResponseRedirect(reverse("admin:login"))
        return self.get_response(request)
