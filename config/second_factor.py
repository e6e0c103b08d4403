"""The second factor of staff signed in with a password kept here (issue 25.2): a passkey (WebAuthn), an
authenticator app's code (TOTP) or a one-time recovery code, asked after the password and before the back office
opens, when STAFF_SECOND_FACTOR_REQUIRED is on (the default without DEBUG).

django-otp keeps the devices (TOTPDevice, StaticDevice for the recovery codes), checks codes with its throttling
(each wrong code doubles the wait) and marks the session verified (`request.user.is_verified()`). This module is
the pages around it: enrolment (a QR code made by segno, the key written out, a code to confirm, then the recovery
codes shown once) and the check at each sign-in. The password step is the admin's own sign-in form, so django-axes'
lockout still applies to it.

Passkeys are django-otp-webauthn's devices (WebAuthnCredential, a django-otp Device like the others): its views run
the two ceremonies (registration, authentication) with py_webauthn, checking the challenge, the origin and the
domain, and its script drives the browser's side; the classes below only say who may run them (staff signed in here
with their password, never without it) and where each ends. Staff signed in through their organisation's identity
provider (OIDC) are not asked: the provider holds the factor (`signed_in_elsewhere`).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp import devices_for_user, login, verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

logger = logging.getLogger(__name__)

RECOVERY_DEVICE = "Recovery codes"
APP_DEVICE = "Authenticator app"
# Recovery codes just made, kept in the session until the recovery codes page shows them once (the page that made
# them redirects there, so a reload neither posts again nor shows them twice), and what was set up with them.
_CODES_TO_SHOW = "second_factor_codes_to_show"
_MADE = {"passkey": "Your passkey is made.", "app": "Your authenticator app is set up."}


def signed_in_elsewhere(request: HttpRequest) -> bool:
    # The backend a sign-in at the organisation's identity provider is recorded under (config/settings/sso.py).
    return bool(request.session.get(BACKEND_SESSION_KEY) == settings.SSO_BACKEND)


def second_factor_passed(request: HttpRequest) -> bool:
    """Whether this session may open the back office as far as the second factor goes."""
    if not settings.STAFF_SECOND_FACTOR_REQUIRED or signed_in_elsewhere(request):
        return True
    is_verified = getattr(request.user, "is_verified", None)  # set by django-otp's middleware
    return bool(is_verified and is_verified())


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("admin:start")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


def _when_to_try_again(user: Any) -> str:
    """How long django-otp's throttling makes the next code wait (each wrong code doubles it, per device; the
    longest of the user's devices is the one that counts, since a code is tried on each)."""
    waits = [
        details["locked_until"]
        for device in devices_for_user(user)
        for allowed, details in [device.verify_is_allowed()]
        if not allowed and details and details.get("locked_until")
    ]
    if not waits:
        return "Try again."
    return f"You can try again in {seconds_until(max(waits))}."


def seconds_until(moment: Any) -> str:
    """How long until `moment`, as a person reads a short wait: "1 second", "12 seconds" (never less than one)."""
    seconds = max(1, math.ceil((moment - timezone.now()).total_seconds()))
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _verified_device(user: Any, code: str) -> Any:
    """The user's confirmed device that accepts `code` (their app first, then a recovery code), or None. Each
    device counts its own wrong codes and waits longer after each (django-otp's throttling)."""
    for device in devices_for_user(user):
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def new_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes with a fresh set (each works once); returned to be shown once."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.RECOVERY_CODE_COUNT)]
        device.token_set.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _context(request: HttpRequest, site: Any, title: str, **more: Any) -> dict[str, Any]:
    # No sidebar of the back office's models: nothing of it opens before the second factor.
    context = {**site.each_context(request), "is_nav_sidebar_enabled": False}
    return {**context, "title": title, "subtitle": None, "next": _next(request), **more}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # a key, a QR code or recovery codes: never kept by a cache
    return response


def second_factor_view(site: Any, request: HttpRequest) -> HttpResponse:
    """After the password: the code of an enrolled staff member, or enrolment for one who has no device yet."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return HttpResponseRedirect(reverse("admin:login"))
    if second_factor_passed(request):
        return HttpResponseRedirect(_next(request))
    if request.method == "POST" and "sign_out" in request.POST:
        logout(request)  # the admin's own sign-out is behind the second factor
        return HttpResponseRedirect(reverse("admin:login"))
    devices = list(devices_for_user(user))  # confirmed: what the page offers is read from them
    if not devices:
        return _enrol(site, request)
    form = CodeForm(request.POST or None)
    has_passkey = any(isinstance(device, WebAuthnCredential) for device in devices)
    has_app = any(isinstance(device, TOTPDevice) for device in devices)
    if not has_app:
        form.fields["code"].help_text = "One of your recovery codes."
    if request.method == "POST" and form.is_valid():
        device = _verified_device(user, form.cleaned_data["code"])
        if device is not None:
            login(request, device)
            return HttpResponseRedirect(_next(request))
        form.add_error("code", f"That code is not right, or it was used already. {_when_to_try_again(user)}")
    title = "Use your passkey or a code" if has_passkey else "Enter your code"
    context = _context(
        request, site, title, form=form, has_passkey=has_passkey, has_app=has_app, passkey=_passkey_config(request)
    )
    return _no_store(render(request, "admin/second_factor/verify.html", context))


def _enrol(site: Any, request: HttpRequest) -> HttpResponse:
    user = request.user
    device = pending_app(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = new_recovery_codes(user)
            login(request, device)
            return _show_codes(request, codes, made="app")
        form.add_error("code", "That code is not right. Check the time on your phone and try the next code.")
    context = _context(
        request,
        site,
        "Set up your second factor",
        form=form,
        **app_to_scan(device),
        passkey=_passkey_config(request),
        codes_page=f"{reverse('admin:recovery_codes')}?{urlencode({'next': _next(request)})}",
    )
    return _no_store(render(request, "admin/second_factor/enrol.html", context))


def pending_app(user: Any) -> TOTPDevice:
    """The person's one app device not yet confirmed, made if there is none: kept across reloads, so the code that
    confirms it is from the QR code scanned (first enrolment and a new phone share it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=APP_DEVICE, confirmed=False
    )


def app_to_scan(device: TOTPDevice) -> dict[str, str]:
    """The page's QR code and the key written out for an app to add `device`."""
    return {
        # Dark on white whatever the page's scheme: a camera reads a QR code's light squares as white (in dark mode
        # the page behind is near black).
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2, light="white"),
        "key": _grouped(device.key),
    }


def _grouped(hex_key: str) -> str:
    """The key as authenticator apps take it by hand: base32, in groups of four."""
    from base64 import b32encode

    text = b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _show_codes(request: HttpRequest, codes: list[str], made: str | None = None) -> HttpResponse:
    """On to the recovery codes page, which shows these codes once (and what was set up with them)."""
    request.session[_CODES_TO_SHOW] = {"codes": codes, "made": made}
    return HttpResponseRedirect(f"{reverse('admin:recovery_codes')}?{urlencode({'next': _next(request)})}")


def recovery_codes_view(site: Any, request: HttpRequest) -> HttpResponse:
    """A verified staff member replaces their recovery codes (the old ones stop working); codes just made, by this
    page or with a first factor, are shown here once."""
    if request.method == "POST":
        return _show_codes(request, new_recovery_codes(request.user))
    shown = request.session.pop(_CODES_TO_SHOW, None) or {}
    codes, made = shown.get("codes"), _MADE.get(shown.get("made") or "")
    title = "Your recovery codes" if codes else "Recovery codes"
    context = _context(request, site, title, codes=codes, made=made, has_app=_has_app(request.user))
    return _no_store(render(request, "admin/second_factor/recovery_codes.html", context))


def _has_app(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _primary_factors(user: Any) -> list[Any]:
    """The user's confirmed passkeys and authenticator app: what they sign in with day to day. Recovery codes are
    not one: they are for the day those are lost, each once."""
    return [device for device in devices_for_user(user) if not isinstance(device, StaticDevice)]


# Passkeys: who may run a ceremony, and where each ends.


def _passkey_config(request: HttpRequest) -> dict[str, Any]:
    """What django-otp-webauthn's script reads from the page (its `otp_webauthn_config`): this site's ceremony
    URLs and the form token. The page's hidden `next` field is where a sign-in with a passkey goes on to."""
    from django.middleware.csrf import get_token

    return {
        "beginRegistrationUrl": reverse("admin:passkey_register_begin"),
        "completeRegistrationUrl": reverse("admin:passkey_register_complete"),
        "beginAuthenticationUrl": reverse("admin:passkey_sign_in_begin"),
        "completeAuthenticationUrl": reverse("admin:passkey_sign_in_complete"),
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
    }


class _StaffWithPassword:
    """A ceremony runs only for an active staff member signed in here with their password: never for someone not
    signed in (passkeys are not a way in without the password, whose lockout stays) nor for staff signed in
    through their organisation (its provider holds their factor)."""

    request: HttpRequest

    def get_user(self) -> Any:
        user = self.request.user
        if user.is_authenticated and user.is_active and user.is_staff and not signed_in_elsewhere(self.request):
            return user
        return None


class PasskeyRegisterBegin(_StaffWithPassword, BeginCredentialRegistrationView):
    pass


class PasskeyRegisterComplete(_StaffWithPassword, CompleteCredentialRegistrationView):
    """A passkey made: a staff member's first factor also gets recovery codes (a passkey can be lost with its
    device), kept in the session for the recovery codes page to show once."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        # The passkey and its codes in one transaction: a process that dies between them keeps neither.
        with transaction.atomic():
            first = not any(devices_for_user(self.request.user))
            response: HttpResponse = super().post(*args, **kwargs)
            if response.status_code == 200 and first:
                codes = new_recovery_codes(self.request.user)
                self.request.session[_CODES_TO_SHOW] = {"codes": codes, "made": "passkey"}
        return response


class PasskeySignInBegin(_StaffWithPassword, BeginCredentialAuthenticationView):
    pass


class PasskeySignInComplete(_StaffWithPassword, CompleteCredentialAuthenticationView):
    def get_success_url(self) -> str:
        return _next(self.request)


def passkeys_view(site: Any, request: HttpRequest) -> HttpResponse:
    """A verified staff member's passkeys: each with when it was made and last used, one more added, one removed.
    The last of all their factors cannot be removed (they would be asked to enrol again at the next sign-in: a
    lost factor is reset by a superuser instead)."""
    user: Any = request.user  # signed in and verified: the admin site's view
    passkeys = WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")
    error = ""
    if request.method == "POST" and "remove" in request.POST:
        with transaction.atomic():
            # One removal at a time per person (their row locked), so two at once cannot each leave the other as
            # the last factor and remove both.
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            passkey = passkeys.filter(pk=_int_or_none(request.POST["remove"])).first()
            others = [] if passkey is None else [d for d in _primary_factors(user) if d != passkey]
            if passkey is None:
                error = "That passkey is not one of yours, or it was removed already."
            elif not others:
                error = (
                    "This is your only passkey and you have no authenticator app: make another passkey before you "
                    "remove this one (recovery codes are for the day you lose it)."
                )
            else:
                signed_in_with_it = getattr(user, "otp_device", None) == passkey
                passkey.delete()
        if passkey is not None and others:
            if signed_in_with_it:
                # The session proved a factor at sign-in; removing that passkey does not undo the proof.
                login(request, others[0])
            logger.info("Passkey removed user_id=%s", user.pk)  # the id only: no name
            messages.success(request, "The passkey was removed: it no longer signs you in.")
            return HttpResponseRedirect(reverse("admin:passkeys"))
    removable = len(_primary_factors(user)) > 1  # the last factor stays (above): its Remove is not offered
    context = _context(
        request,
        site,
        "Your passkeys",
        passkeys=list(passkeys),
        removable=removable,
        error=error,
        passkey=_passkey_config(request),
    )
    return _no_store(render(request, "admin/second_factor/passkeys.html", context))


def _int_or_none(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None
