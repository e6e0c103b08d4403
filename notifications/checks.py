"""Checks of SMS_BACKEND: a name that does not import fails every start (every text message would fail); for a
deployment, no backend, or one that delivers nothing, is a warning (text messages are then not sent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.checks import CheckMessage, Error, Tags, register

from notifications.sms import OFF, BaseBackend, sms_backend, sms_configured

HOW = "a class with send(to, text) for your provider (notifications/sms.py)"


@register()
def sms_backend_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not sms_configured():
        return []
    try:
        backend = sms_backend()
    except ImportError as exc:
        return [
            Error(f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {exc}", hint=HOW, id="notifications.E001")
        ]
    if not (isinstance(backend, type) and issubclass(backend, BaseBackend)):
        return [
            Error(f"SMS_BACKEND {settings.SMS_BACKEND!r} is not an SMS backend.", hint=HOW, id="notifications.E002")
        ]
    return []


@register(Tags.compatibility, deploy=True)
def sms_backend_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SMS_BACKEND == "":
        return [
            checks.Warning(
                "SMS_BACKEND is not set: text messages to claimants are not sent (each is listed as not configured "
                "in the back office).",
                hint=f"Set SMS_BACKEND to {HOW}, or to {OFF} if this service sends no text messages.",
                id="notifications.W001",
            )
        ]
    if sms_configured() and not sms_backend_check():
        backend = sms_backend()
        if not backend.delivers:
            return [
                checks.Warning(
                    f"SMS_BACKEND is {settings.SMS_BACKEND}, which sends nothing, yet records each text message as "
                    f"sent.",
                    hint=f"Set SMS_BACKEND to {HOW}, or to {OFF} if this service sends no text messages.",
                    id="notifications.W002",
                )
            ]
    return []
