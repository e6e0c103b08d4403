"""Deploy checks (`manage.py check --deploy`) of the secrets the settings hold: each signs something a stranger can
see, so a short or guessable one is an error, not a warning.

- SECRET_KEY and SECRET_KEY_FALLBACKS sign sessions, CSRF tokens and password-reset links: Django's own criteria
  (50 characters, 5 distinct, not a `django-insecure-` key), raised from its warnings security.W009 and W025 (which
  are silenced, since these say the same) to errors.
- JITSI_APP_SECRET signs the HS256 join token every participant's browser receives, so anyone can try keys against
  it offline: at least 32 characters (RFC 7518 section 3.2: an HS256 key of 256 bits or more), random-looking
  (an estimate of at least 128 bits), and not Django's own key (the video server would then hold it).
- JITSI_PRIVATE_KEY signs the RS256 join tokens of JaaS: an RSA private key of 2048 bits or more.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from config.startup import MISSING_KEY_MESSAGE

MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe({n}))'"
DJANGO_KEY_MIN_LENGTH = 50
DJANGO_KEY_MIN_DISTINCT = 5
HS256_MIN_LENGTH = 32
HS256_MIN_BITS = 128
RSA_MIN_BITS = 2048


def estimated_bits(value: str) -> float:
    """The string's length times the Shannon entropy of its characters: about what a random key of that length
    and alphabet carries, far less for a word, a repeated pattern or a short alphabet."""
    counts = Counter(value)
    return -len(value) * sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def weak_django_key(value: str) -> bool:
    return (
        len(value) < DJANGO_KEY_MIN_LENGTH
        or len(set(value)) < DJANGO_KEY_MIN_DISTINCT
        or value.startswith("django-insecure-")
    )


@register(Tags.security, deploy=True)
def signing_secrets_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    try:
        secret_key: str = settings.SECRET_KEY
    except ImproperlyConfigured:
        secret_key = ""
        errors.append(Error("SECRET_KEY is not set.", hint=MISSING_KEY_MESSAGE, id="config.E001"))
    if secret_key and weak_django_key(secret_key):
        errors.append(
            Error(
                f"SECRET_KEY is too weak: it signs sessions, CSRF tokens and password-reset links, and needs at least "
                f"{DJANGO_KEY_MIN_LENGTH} characters, {DJANGO_KEY_MIN_DISTINCT} of them distinct, and must not be a "
                f"django-insecure- key.",
                hint=f"Make one with  {MAKE_A_KEY.format(n=50)}",
                id="config.E002",
            )
        )
    for position, fallback in enumerate(settings.SECRET_KEY_FALLBACKS):
        if weak_django_key(fallback.decode() if isinstance(fallback, bytes) else fallback):
            errors.append(
                Error(
                    f"SECRET_KEY_FALLBACKS[{position}] is too weak: a fallback still verifies what it signed, so it "
                    f"needs what SECRET_KEY needs.",
                    hint="Remove it (what it signed then stops verifying) or replace it with a strong key.",
                    id="config.E003",
                )
            )
    errors += _jitsi_secret_errors(secret_key)
    errors += _jitsi_private_key_errors()
    return errors


def _jitsi_secret_errors(secret_key: str) -> list[Error]:
    secret: str = settings.JITSI_APP_SECRET
    if not secret:
        return []
    if len(secret) < HS256_MIN_LENGTH or estimated_bits(secret) < HS256_MIN_BITS:
        return [
            Error(
                f"JITSI_APP_SECRET is too weak: it signs the HS256 join token every participant receives, so it can be "
                f"guessed offline. It needs at least {HS256_MIN_LENGTH} random characters (RFC 7518: 256 bits for "
                f"HS256).",
                hint=f"Make one with  {MAKE_A_KEY.format(n=32)}  and set it in Jitsi's token authentication too.",
                id="config.E004",
            )
        ]
    if secret in (secret_key, *settings.SECRET_KEY_FALLBACKS):
        return [
            Error(
                "JITSI_APP_SECRET is the service's SECRET_KEY: the video server would hold the key that signs "
                "sessions here.",
                hint=f"Give Jitsi a key of its own:  {MAKE_A_KEY.format(n=32)}",
                id="config.E005",
            )
        ]
    return []


def _jitsi_private_key_errors() -> list[Error]:
    pem: str = settings.JITSI_PRIVATE_KEY
    if not pem or settings.JITSI_APP_SECRET:  # the shared secret, when set, is the one that signs
        return []
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return [
            Error(
                "JITSI_PRIVATE_KEY is not an unencrypted PEM private key.",
                hint="Use the private key JaaS gave for JITSI_KEY_ID (-----BEGIN PRIVATE KEY-----).",
                id="config.E006",
            )
        ]
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < RSA_MIN_BITS:
        return [
            Error(
                f"JITSI_PRIVATE_KEY must be an RSA key of at least {RSA_MIN_BITS} bits: it signs RS256 join tokens.",
                hint="Make a new key pair in JaaS's console and set JITSI_PRIVATE_KEY and JITSI_KEY_ID to it.",
                id="config.E007",
            )
        ]
    return []
