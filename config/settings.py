"""Settings for the appointments service, read from the environment.

With no environment at all the service runs locally on a SQLite file and answers on 127.0.0.1.
Every variable is parsed by a small typed helper that fails loudly on a malformed value, so a typo in
production stops the start-up instead of silently meaning "off".
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.logs import FILTERS, FORMATTERS, console_handler, scrub_event

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str) -> str:
    value = env_str(name, default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(f"{name} must be an absolute http(s) URL, got {value!r}")
    return value


def _local_secret_key() -> str:
    """A per-checkout random key for development (DEBUG), so no secret ever lives in the repository."""
    path = BASE_DIR / ".local" / "secret_key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# Production needs one key, the same on every host and kept across releases: without DEBUG none is made up (a key
# per host broke every session and signed value as soon as a request reached another host or a host was replaced).
# Left empty, Django refuses to sign anything with it, and the web server and the task worker refuse to start
# (config/startup.py). Tools that only read the code (makemigrations, mypy, the schema) need none.
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or (_local_secret_key() if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# The claimant's page (`url` in the representation) and the video rooms live on these bases.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
VIDEO_BASE_URL = env_url("VIDEO_BASE_URL", "https://meet.jit.si")
# The claimant's page: the join window opens this long before the appointment and closes this long after its end;
# a claimant whose page stops polling for WAITING_ABSENCE_SECONDS leaves the waiting room; 5 wrong dates of birth
# lock a browser out of a link, and 20 from all browsers lock the link, until staff unlock it (docs/decisions.md).
# Lookups of the public pages are limited per address and minute.
JOIN_OPENS_MINUTES_BEFORE = env_int("JOIN_OPENS_MINUTES_BEFORE", 30)
JOIN_GRACE_MINUTES = env_int("JOIN_GRACE_MINUTES", 15)
# A no-show may be recorded only this long after the appointment's start (or at its end, if that comes first).
NO_SHOW_GRACE_MINUTES = env_int("NO_SHOW_GRACE_MINUTES", 15)
# The organisation's own contact details: shown to claimants of a department that has none of its own (set on its
# page in the back office), and on pages that name no department (a link that is not valid).
CONTACT_PHONE = env_str("CONTACT_PHONE", "")
CONTACT_EMAIL = env_str("CONTACT_EMAIL", "")
CONTACT_HOURS = env_str("CONTACT_HOURS", "")
WAITING_ABSENCE_SECONDS = env_int("WAITING_ABSENCE_SECONDS", 60)
STATUS_POLL_SECONDS = env_int("STATUS_POLL_SECONDS", 5)
# A session in progress past its end that nobody ended is completed once no participant's page has been open for
# this long (issue 17.3); until then the back office lists it under "Needs attention".
SESSION_ABANDONED_MINUTES = env_int("SESSION_ABANDONED_MINUTES", 10)
IDENTITY_MAX_FAILURES = env_int("IDENTITY_MAX_FAILURES", 5)
IDENTITY_LINK_MAX_FAILURES = env_int("IDENTITY_LINK_MAX_FAILURES", 20)
PUBLIC_PAGE_RATE_PER_MINUTE = env_int("PUBLIC_PAGE_RATE_PER_MINUTE", 120)
# Jitsi token authentication: with an app id and either a shared secret (self-hosted Jitsi, HS256) or a JaaS
# private key and key id (RS256), every join gets a JWT minted at that moment. Without them the plain room opens.
JITSI_APP_ID = env_str("JITSI_APP_ID", "")
JITSI_APP_SECRET = env_str("JITSI_APP_SECRET", "")
JITSI_PRIVATE_KEY = env_str("JITSI_PRIVATE_KEY", "")
JITSI_PRIVATE_KEY_FILE = env_str("JITSI_PRIVATE_KEY_FILE", "")
JITSI_KEY_ID = env_str("JITSI_KEY_ID", "")
if JITSI_PRIVATE_KEY_FILE and not JITSI_PRIVATE_KEY:
    JITSI_PRIVATE_KEY = Path(JITSI_PRIVATE_KEY_FILE).read_text()
if JITSI_APP_ID and not (JITSI_APP_SECRET or (JITSI_PRIVATE_KEY and JITSI_KEY_ID)):
    raise ImproperlyConfigured("JITSI_APP_ID needs JITSI_APP_SECRET, or JITSI_PRIVATE_KEY(_FILE) and JITSI_KEY_ID")

# Phone numbers written without a leading + are read as numbers of this region (ISO 3166 code).
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "GB").upper()

INSTALLED_APPS = [
    "config.apps.BackOfficeConfig",  # django.contrib.admin, named as the product
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "health_check",
    "django_guid",
    "accounts",
    "appointments",
    "claimants",
    "meetings",
    "events",
    "webhooks",
    "notifications",
    "django_tasks",
    # Before django_tasks_db: its `db_worker` command is the one `manage.py db_worker` runs (worker/).
    "worker",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: every log line of the request, and its response, carry the request id.
    "django_guid.middleware.guid_middleware",
    # Before anything reads a body: a body shorter than its Content-Length is a 400, never applied in part.
    "config.middleware.WholeBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ApiGuardMiddleware",
    # After the API guard, so its process_exception runs first: a database outage is a 503, not a 500.
    "config.outage.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses a locked-out username/address pair before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
# Lock the username on the address it was attacked from, so an attacker cannot lock a colleague out everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Reverse proxies in front of the service, so the lockout and the public pages' limit see the client's address.
PROXY_COUNT = env_int("PROXY_COUNT", 0)
# The lockout keys on the same client address as the rest of the service (X-Forwarded-For per PROXY_COUNT);
# axes' own reading would see only the proxy, so anyone could lock anyone out from behind it.
AXES_CLIENT_IP_CALLABLE = "config.net.axes_client_address"

# A strict policy for every HTML page (admin, API docs): only this origin's own scripts, styles and images,
# no inline code, no framing. JSON responses carry it too, harmlessly.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

ROOT_URLCONF = "config.urls"
# Paths have no trailing slash in the contract; the API routes accept both, so nothing redirects.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a competing writer instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    # The session's zone is UTC from the start, so Django sets none on each new connection.
    # (Server-side binding, with which psycopg prepares a statement a connection runs five times, was measured
    # for issue 12: no gain against the floor, and a query of the back office's day view fails under it.)
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c TimeZone=UTC".strip()
    if env_bool("DB_POOL", False):
        # psycopg's pool inside each process (Django 5.1+): persistent connections must then be off.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        _options["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 1),
            "max_size": env_int("DB_POOL_MAX", 4),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }

# A shared cache (the rate limits, the public pages' limit) across processes and machines when REDIS_URL is set;
# otherwise, or while it does not answer, each process counts on its own (docs/operating.md).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request at most this long before the limits count in the
            # process instead (config/net.py); redis-py's default is 5 s, or no limit for a connection.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # the contract reads a datetime without an offset as UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at every start-up while it is missing
# Development and the tests (STATIC_USE_FINDERS, the default): WhiteNoise serves the files from static/ and the
# installed apps as they are, so nothing needs collecting. Production (the image, `make serve`: STATIC_USE_FINDERS=0)
# runs collectstatic first: each file is stored under a name with its content's hash and a gzip copy beside it,
# pages link the hashed names, and WhiteNoise serves those compressed and cached for good (max-age of ten years,
# immutable); a file that changes gets a new name.
STATIC_COLLECTED = not env_bool("STATIC_USE_FINDERS", True)
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Requests whose bearer token fails, per client address and minute; beyond it a failing token gets 429 instead of
# 401. Only failures count, and a valid token always passes.
API_BAD_TOKEN_LIMIT_PER_MINUTE = env_int("API_BAD_TOKEN_LIMIT_PER_MINUTE", 30)

# Request bodies: the contract's bodies are a few kilobytes; anything much larger is refused with 413.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Nested brackets (`claimant[data][0][id]`) and nested JSON deeper than this are refused with 400.
API_MAX_BODY_DEPTH = 8

# HTTPS deployments set HTTPS=1 once and get every transport-security setting with it.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
# Health probes come over plain HTTP from inside the host or container (config/healthcheck.py, load balancers).
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading commits the whole domain to HTTPS in browsers for months and is hard to undo: the operator opts in
# with SECURE_HSTS_PRELOAD=1; until then check --deploy's reminder about it is silenced.
# Django's warnings about a weak SECRET_KEY (W009) and fallback (W025) are errors of ours (config/checks.py), which
# also check the other signing secrets: the same finding is not reported twice.
SILENCED_SYSTEM_CHECKS = ["security.W009", "security.W025", *([] if SECURE_HSTS_PRELOAD else ["security.W021"])]
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.JSONParser",
        "config.api.parsers.BracketFormParser",
        "config.api.parsers.BracketMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.WindowRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_RATE_LIMIT", "600/min")},
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

REST_KNOX = {
    # The original API sends `Authorization: Bearer <token>`; knox keeps only a SHA-512 digest of it.
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": None,  # expiry is chosen per token when it is created
    "TOKEN_PREFIX": "apt_",
}
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 (a model path, not a secret)
# knox's own migrations create its default token table even when the model is swapped for ApiToken; that table
# would be unused and its foreign key to auth_user blocks TRUNCATE (test flushes). knox's tables are not needed.
MIGRATION_MODULES = {"knox": None}

SPECTACULAR_SETTINGS = {
    "TITLE": "Appointments API",
    "DESCRIPTION": (
        "Remote video appointments between an organisation's agents and a claimant. "
        "A drop-in replacement for the original Laravel API: same paths, bodies, envelopes and error shapes."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["config.api.schema.strip_optional_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.form_bodies_with_bracket_keys",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.Status",
        "AppointmentOutcomeEnum": "appointments.models.Outcome",
        "FeaturesBandwidthEnum": "appointments.models.Bandwidth",
        "ClaimantDataTypeEnum": "claimants.models.FieldType",
    },
}

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
SERVER_EMAIL = env_str("SERVER_EMAIL", "appointments@localhost")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", SERVER_EMAIL)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP server may take to answer each step (Django waits forever without it): a stalled server fails
# the message, which is tried again later, instead of stopping the worker (issue 18.3).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# The claimant's emails: printed to the console in development (DEBUG); SMTP otherwise (EMAIL_HOST and the rest
# above), so a production that forgot to configure mail keeps claimants' links out of its logs: the messages
# fail, are retried and show as failed in the back office instead.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
# Text messages go through a small interface of ours (notifications/sms.py): SMS_BACKEND names the provider's backend
# class. Without one (production's default, or `none` to say so on purpose) no text message is attempted: each is
# listed as "not configured" in the back office, and check --deploy warns unless it is `none`. With DEBUG the default
# writes a masked log line instead of sending.
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.sms.LoggingBackend" if DEBUG else "").strip()
# Seconds a provider's backend may wait for its provider (notifications/sms.py: every backend is given it).
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)

# The task queue: Django's Tasks API (the django-tasks backport) on the database, run by `manage.py db_worker`.
# Three queues, each run by a thread of its own in every worker (worker/), so no kind of work waits behind
# another (issue 18.3): "default" fans events out and runs the scheduled checks, "webhooks" delivers, "messages"
# sends the claimant's emails and text messages.
TASK_QUEUES = ["default", "webhooks", "messages"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
# A running task holds a lease its worker renews every few seconds; a task whose lease has expired (its worker
# was killed, or lost its database) is run again (issue 18.2). Longer than a heartbeat can be late, shorter than
# anyone would wait for a lost delivery.
TASK_LEASE_SECONDS = env_int("TASK_LEASE_SECONDS", 30)
# How often each worker looks for work that has no task (a delivery or message left pending by a fault) and
# enqueues it again, and for work stuck longer than TASK_STUCK_AFTER_SECONDS (logged at ERROR, reported by the
# worker's /health/ready).
TASK_SWEEP_SECONDS = env_int("TASK_SWEEP_SECONDS", 30)
TASK_STUCK_AFTER_SECONDS = env_int("TASK_STUCK_AFTER_SECONDS", 900)
# No task may run longer: past it the worker logs an ERROR and exits (its supervisor starts it again), since a
# thread cannot be stopped from outside; every outside call has a timeout well below it.
TASK_TIME_LIMIT_SECONDS = env_int("TASK_TIME_LIMIT_SECONDS", 600)
# The worker's own /health/live and /health/ready, on this port of 0.0.0.0 (0: not served).
WORKER_HEALTH_PORT = env_int("WORKER_HEALTH_PORT", 0)
# Events are written in the transaction of the change they describe (an outbox); off only for benchmarks.
EVENTS_ENABLED = env_bool("EVENTS_ENABLED", True)
# Webhook endpoints must be https; http on a loopback address is allowed only with DEBUG (local receivers).
# Deliveries to private, loopback or link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES
# (DEBUG's default), so a webhook cannot reach the service's own network.
WEBHOOK_ALLOW_HTTP_LOOPBACK = env_bool("WEBHOOK_ALLOW_HTTP_LOOPBACK", DEBUG)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# An endpoint whose deliveries have all failed for this long is disabled, and its managers are told.
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 5)
# Test pings one endpoint may be sent a minute (API and back office together): a ping goes to whatever URL the
# endpoint names, so the service must not become a way to flood it.
WEBHOOK_TEST_PINGS_PER_MINUTE = env_int("WEBHOOK_TEST_PINGS_PER_MINUTE", 5)
# Times in the claimant's messages are written in this zone until departments have their own.
NOTIFICATION_TIME_ZONE = env_str("NOTIFICATION_TIME_ZONE", "Europe/London")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": FILTERS,
    "formatters": FORMATTERS,  # the same as gunicorn's (config/logs.py)
    "handlers": {
        "console": console_handler(LOG_FORMAT),
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
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
