"""Error reports (the mails to ADMINS): which settings and request values are masked, and the mail itself scrubbed.

Django masks settings whose names look secret (KEY, PASS, TOKEN...). That missed REDIS_URL, CACHES' LOCATION and
the Sentry DSN (their credential is inside a URL), and the request's META, which under `runserver` holds the whole
process environment (DATABASE_URL with its password). Here every setting or META entry named like a credential is
masked whole, every URL anywhere in them loses its user and password, and the finished mail is scrubbed once more,
so a credential inside an exception's message does not leave either.
"""

import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.log import AdminEmailHandler as DjangoAdminEmailHandler
from django.views.debug import SafeExceptionReporterFilter

from config.logs import scrub

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # in django-stubs only

# Django's list (API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE) and the names of this service's settings
# and environment variables that hold a credential whole or inside a URL.
HIDDEN_SETTINGS = re.compile(
    "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|DSN|DATABASE_URL|REDIS|CACHES|JITSI",
    flags=re.IGNORECASE,
)


class ReporterFilter(SafeExceptionReporterFilter):
    """Django's filter with a broader list of secret names, and URL credentials masked in every other value."""

    hidden_settings = HIDDEN_SETTINGS

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)  # recurses through dicts and lists back into this method
        return scrub(str(cleansed)) if isinstance(cleansed, str) else cleansed  # str(): lazy strings too


class AdminEmailHandler(DjangoAdminEmailHandler):
    """Django's handler, with the subject, the report and its HTML version scrubbed before they are sent."""

    def emit(self, record: Any) -> None:
        if not settings.ADMINS:  # Django checks this only while send_mail is its own
            return
        super().emit(record)

    def send_mail(self, subject: "str | _StrPromise", message: "str | _StrPromise", *args: Any, **kwargs: Any) -> None:
        if kwargs.get("html_message"):
            kwargs["html_message"] = scrub(str(kwargs["html_message"]))
        super().send_mail(scrub(str(subject)), scrub(str(message)), *args, **kwargs)
