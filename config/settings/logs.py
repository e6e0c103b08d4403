"""Logs, error mails and Sentry. Imported by config.settings (every name here is a setting); the log lines'
shape itself is config/logs.py."""

from django.core.exceptions import ImproperlyConfigured

import config.logs
from config.settings.env import env_list, env_str

# Logs: one line per event with a timestamp and the request id, in the one shape every process writes
# (config/logs.py); JSON for log collectors (LOG_FORMAT=json, as the container image sets), readable text
# otherwise. Errors go to ADMINS by mail when any are set, and to Sentry when SENTRY_DSN is set.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",  # an id sent by the proxy is kept when it is a UUID, otherwise a new one
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "INTEGRATIONS": [],
    "IGNORE_URLS": ["health/live", "health/ready"],
}
ADMINS = [
    (name.strip(), address.strip(" >"))
    for name, _, address in (entry.partition("<") for entry in env_list("ADMINS", []))
    if address
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": config.logs.FILTERS,
    "formatters": config.logs.FORMATTERS,  # the same as gunicorn's (config/logs.py)
    "handlers": {
        "console": config.logs.console_handler(LOG_FORMAT),
        # Sends nothing while ADMINS is empty.
        "mail_admins": {"class": "config.error_reports.AdminEmailHandler", "level": "ERROR"},
    },
    "root": {"handlers": ["console", "mail_admins"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default configuration gives its own logger a console and a mail handler besides the root's: a
        # 500 was mailed twice (three times from the API). Its records reach the root's handlers only.
        "django": {"handlers": [], "propagate": True},
        "django_guid": {"level": "WARNING"},  # not a line per request saying it made an id
    },
}
# Error mails mask every setting and request value that may hold a credential (config/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.ReporterFilter"

SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
        # Claimants' data stays here: no user, no cookies, and neither request bodies nor the local variables of
        # the failing frames (which send_default_pii=False still sends: a claimant's name, a join token).
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        # Private links and URL credentials leave no event (config/logs.py), whatever part of it they are in.
        before_send=config.logs.scrub_event,
        before_send_transaction=config.logs.scrub_event,
    )
