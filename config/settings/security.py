"""Who may sign in and how often, and what browsers are told: django-axes' lockout, the Content Security Policy,
HTTPS and the cookies' flags. Imported by config.settings (every name here is a setting)."""

from datetime import timedelta

from csp import constants as csp

from config.settings.env import env_bool, env_int, env_list

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses a locked-out username/address pair before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Refuses the password of anyone but a superuser when PASSWORDS_FOR_SUPERUSERS_ONLY is on (config/sign_in.py).
    "config.sign_in.BreakGlassOnlyBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff sign in through their organisation only, but for a superuser's password: the break-glass account.
PASSWORDS_FOR_SUPERUSERS_ONLY = env_bool("PASSWORDS_FOR_SUPERUSERS_ONLY", False)
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
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

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
# Django's default is None: the scheme is the connection's own.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form token on a claimant's page is said in its language (meetings/error_pages.py); staff's as Django's.
CSRF_FAILURE_VIEW = "meetings.error_pages.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# The second factor of staff signed in with a local password (django-otp; config/second_factor.py): the name
# authenticator apps list the account under, and each wrong code doubling the wait before the next is tried
# (django-otp's throttling), as the password's lockout above does for passwords.
OTP_TOTP_ISSUER = "Appointments"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# How many recovery codes enrolment gives (each works once).
RECOVERY_CODE_COUNT = 10
# Passkeys (django-otp-webauthn) are a second factor only, after the password (whose lockout stays): never a sign-in
# without it. The name the browser shows when one is made; its domain and origins are in config/settings/__init__.py.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Appointments"
