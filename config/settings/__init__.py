"""Settings for the appointments service, read from the environment.

With no environment at all the service runs locally on a SQLite file and answers on 127.0.0.1.
Every variable is parsed by a small typed helper (config/settings/env.py) that fails loudly on a malformed value,
so a typo in production stops the start-up instead of silently meaning "off".

A package so that no module of it passes 400 lines: this one holds the service's own settings, and each sibling a
concern whose settings a reader takes together (security, api, logs). They are imported whole (`*`), so a setting
added to a sibling is a setting at once, with no second list of names here to forget it in; their helpers' names
are lowercase or private, which Django ignores.
"""

import os
import secrets
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.settings.api import *  # noqa: F403 (every name there is a setting; see the docstring)
from config.settings.env import env_bool, env_int, env_list, env_str, env_url
from config.settings.logs import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.sso import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parents[2]


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
# Staff who sign in with a password kept here need a second factor (an authenticator app's code, or a recovery code)
# before the back office opens (issue 25.2): on unless DEBUG (`make run`'s demo staff sign in with a password
# alone). Staff signed in through their organisation (OIDC) are not asked: their identity provider holds the factor.
STAFF_SECOND_FACTOR_REQUIRED = env_bool("STAFF_SECOND_FACTOR_REQUIRED", not DEBUG)

# The claimant's page (`url` in the representation) and the video rooms live on these bases.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
VIDEO_BASE_URL = env_url("VIDEO_BASE_URL", "https://meet.jit.si")
# Passkeys (WebAuthn) as staff's second factor (config/second_factor.py): a passkey belongs to a domain (the relying
# party) and is offered only on pages of the origins listed. Both default to the service's address; a loopback
# address is named "localhost", the one name browsers accept for a passkey without HTTPS (an IP address never is).
_PUBLIC = urlsplit(PUBLIC_BASE_URL)
_PASSKEY_HOST = "localhost" if _PUBLIC.hostname in {"127.0.0.1", "::1"} else (_PUBLIC.hostname or "localhost")
_PASSKEY_PORT = f":{_PUBLIC.port}" if _PUBLIC.port else ""
OTP_WEBAUTHN_RP_ID = env_str("PASSKEY_DOMAIN", _PASSKEY_HOST)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("PASSKEY_ORIGINS", [f"{_PUBLIC.scheme}://{_PASSKEY_HOST}{_PASSKEY_PORT}"])
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
# The opening hours in Welsh, for Welsh pages and messages (blank: CONTACT_HOURS is shown there too).
CONTACT_HOURS_CY = env_str("CONTACT_HOURS_CY", "")
# The accessibility statement's "last tested" date (issue 22.4, /join/accessibility): the day the organisation last
# tested the participants' pages (ISO, 2026-12-04). The default is when this release's browser tests were written.
ACCESSIBILITY_TESTED_ON = date.fromisoformat(env_str("ACCESSIBILITY_TESTED_ON", "2026-12-04"))
WAITING_ABSENCE_SECONDS = env_int("WAITING_ABSENCE_SECONDS", 60)
STATUS_POLL_SECONDS = env_int("STATUS_POLL_SECONDS", 5)
# How often the back office's live pages (today's list, the calendar, the waiting room) ask whether anything changed.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 5)
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
    "pgtrigger",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "accounts",
    "accounts.sso",
    "appointments",
    "claimants",
    "meetings",
    "events",
    "ledger",
    "webhooks",
    "notifications",
    "desk",
    "privacy",
    "django_tasks",
    # Before django_tasks_db: its `db_worker` command is the one `manage.py db_worker` runs (worker/).
    "worker",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: every log line of the request, and its response, carry the request id.
    "django_guid.middleware.guid_middleware",
    # Which channel a change the request makes came from (the API, the back office, a participant's page): the ledger's.
    "ledger.middleware.ChannelMiddleware",
    # Before anything reads a body: a body shorter than its Content-Length is a 400, never applied in part.
    "config.middleware.WholeBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ApiGuardMiddleware",
    # After the API guard, so its process_exception runs first: a database outage is a 503, not a 500.
    "config.outage.DatabaseUnavailableMiddleware",
    # A GET of a view marked lean (the claimant's status poll) is answered here, without the session, user and
    # message middleware below; it gives the answer their headers (config/middleware.py, issue 26.5).
    "config.middleware.LeanMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp; config/second_factor.py).
    "django_otp.middleware.OTPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A single sign-on session checked again against its provider at an interval (accounts/sso/; after the
    # messages, which say why a session ended).
    "accounts.sso.middleware.RecheckMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

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
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task worker share the file (`make run`): each waits up to `timeout` seconds for the
    # other's write lock instead of failing with "database is locked". A transaction takes the write lock when it
    # begins (IMMEDIATE): with SQLite's default (DEFERRED) it is taken at the first write, and a transaction that
    # read first then fails at once, without waiting (docs/decisions.md, "SQLite: the web server and the worker").
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # The suite's test database is a file of its own run, not memory: an in-memory one is a single connection that
    # the live server's threads share with the test, and CPython's sqlite3 can deadlock on a shared connection
    # (docs/decisions.md, "The suite's SQLite database in a file"). Django removes it when the run ends.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(Path(tempfile.gettempdir()) / f"appointments-test-{os.getpid()}.sqlite3")
    )
else:
    # The session's zone is UTC from the start, so Django sets none on each new connection.
    # (Server-side binding, with which psycopg prepares a statement a connection runs five times, was measured
    # for issue 12: no gain against the floor, and a query of the back office's day view fails under it.)
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c TimeZone=UTC".strip()
    # A statement running longer is cancelled by PostgreSQL (0: never). The web server sets it to its TIMEOUT
    # (config/gunicorn.conf.py): under its threaded workers nothing else bounds a request stuck in the database.
    # The task worker and the commands (migrations among them) keep none unless it is set for them.
    if _statement_ms := env_int("DB_STATEMENT_TIMEOUT_MS", 0):
        _options["options"] += f" -c statement_timeout={_statement_ms}"
    if env_bool("DB_PREPARE", True):
        # Lets psycopg keep the statements a query asks PostgreSQL to prepare (config.prepared's `on_server`: the
        # claimant's status poll, issue 26.5). Django's cursors bind on the client and never prepare, so the
        # threshold itself never triggers. DB_PREPARE=0 behind a pooler in transaction mode without prepared
        # statements (PgBouncer before 1.21, or without max_prepared_statements).
        _options.setdefault("prepare_threshold", 2**31 - 1)
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
# The claimant's languages (issue 22.1): their pages, messages and calendar invitations. The back office and the API
# stay in LANGUAGE_CODE: no LocaleMiddleware, so an Accept-Language never changes an API answer's bytes; the
# public pages choose their language themselves (config/languages.py, meetings/views.py).
LANGUAGES = [("en", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django's own dates in the back office in the service's one format (config/local_time.py's DAY_FORMAT, issue 24.5).
FORMAT_MODULE_PATH = ["config.formats"]
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
# One worker takes up to WEBHOOK_BATCH_SIZE due deliveries at once (one transaction claims them, one records them)
# and sends at most WEBHOOK_CONCURRENCY of them at a time, over connections kept per endpoint (issue 26.5).
# A batch ends when its slowest attempt does, so each is held for as many rounds of the concurrency as it needs.
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 200)
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 20)
# Test pings one endpoint may be sent a minute (API and back office together): a ping goes to whatever URL the
# endpoint names, so the service must not become a way to flood it.
WEBHOOK_TEST_PINGS_PER_MINUTE = env_int("WEBHOOK_TEST_PINGS_PER_MINUTE", 5)
# Times in the claimant's messages are written in this zone until departments have their own.
NOTIFICATION_TIME_ZONE = env_str("NOTIFICATION_TIME_ZONE", "Europe/London")
# How long a claimant's personal data is kept after their appointment ends, in days, unless the department sets its
# own period (issue 21.1): six years by default (a claim's limitation period in England and Wales). The daily task
# and `manage.py purge_expired` erase what is past it, except appointments on legal hold.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 6 * 365 + 2)
