"""A staff member replaces their own authenticator app (a new phone), or adds one beside their passkeys.

Asked of a session that has passed its second factor (the admin site's view), with the account's password again
and a code from the new app: a session left open on someone else's screen is not enough to move the factor to
another phone. The new app is confirmed and the old one removed in one transaction, and the session goes on
verified by the new one. A lost phone with no way in is still a superuser's reset (accounts.services).
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django_otp import login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.second_factor import _context, _no_store, app_to_scan, pending_app, seconds_until, signed_in_elsewhere

logger = logging.getLogger(__name__)


class NewAppForm(forms.Form):
    code = forms.CharField(label="Code from your new app", max_length=16)
    password = forms.CharField(label="Your password", strip=False, widget=forms.PasswordInput)

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())


def authenticator_app_view(site: Any, request: HttpRequest) -> HttpResponse:
    """The page: the app set up now (if any), and a new one to scan, confirmed by its code and the password."""
    user: Any = request.user  # signed in and verified: the admin site's view
    if signed_in_elsewhere(request):  # their organisation's sign-in holds their second factor
        return HttpResponseRedirect(reverse("admin:index"))
    pending = pending_app(user)  # nobody has this page and a first enrolment at once
    current = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at").last()
    form = NewAppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if authenticate(request, username=user.get_username(), password=form.cleaned_data["password"]) is None:
            if getattr(request, "axes_locked_out", False):
                # Too many wrong passwords: the account is locked for new sign-ins, and so is this session (django-axes
                # answers with its lockout page), so that guessing here cannot go on from a screen left open.
                logout(request)
                logger.info("Signed out after too many wrong passwords on the app page user_id=%s", user.pk)
                return HttpResponseRedirect(reverse("admin:login"))
            form.add_error("password", "That is not your password.")
        elif waiting := _too_soon(pending):
            form.add_error("code", waiting)
        elif not pending.verify_token(form.cleaned_data["code"]):
            form.add_error("code", "That code is not right. Check the time on your phone and try the next code.")
        else:
            with transaction.atomic():
                replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=pending.pk).delete()[0]
                pending.confirmed = True
                pending.created_at = timezone.now()  # "set up on" says when it was confirmed, not first shown
                pending.save(update_fields=["confirmed", "created_at"])
            login(request, pending)  # the session's device may have been the one removed
            logger.info("Authenticator app %s user_id=%s", "replaced" if replaced else "added", user.pk)  # no name
            messages.success(
                request,
                "Your new authenticator app is set up: the old one no longer signs you in."
                if replaced
                else "Your authenticator app is set up.",
            )
            return HttpResponseRedirect(reverse("admin:start"))  # not this page again, which would make a new key
    context = _context(
        request,
        site,
        "Your authenticator app",
        form=form,
        current=current,
        # After a refusal, the field to mend has the focus (the error is read with it); else the code's.
        focus="password" if form.has_error("password") else "code",
        **app_to_scan(pending),
    )
    return _no_store(render(request, "admin/second_factor/authenticator_app.html", context))


def _too_soon(pending: TOTPDevice) -> str:
    """Why a code is not even tried, when it comes too soon after wrong ones (django-otp's doubling wait); "" else."""
    allowed, details = pending.verify_is_allowed()
    locked_until = (details or {}).get("locked_until")
    if allowed or not locked_until:
        return ""
    return f"Too many wrong codes in a row: try again in {seconds_until(locked_until)}."
