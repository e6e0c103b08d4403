"""`manage.py check --deploy` refuses every signing secret the settings hold when it is short or guessable: the
SECRET_KEY (and its fallbacks), the Jitsi HS256 secret every participant's token is signed with, and the JaaS
RS256 private key (issue 18.11)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(50)
STRONG_JITSI = secrets.token_urlsafe(32)


def production(**env: str) -> dict[str, str]:
    """An environment as CI's production check has it (.ci/run), with `env` over it."""
    # Not DJANGO_ALLOW_ASYNC_UNSAFE either: the browser tests set it for this process (tests/e2e/conftest.py), and
    # Django's own deploy check refuses it (async.E001), which production never sets.
    drop = ("JITSI_", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**base, "DEBUG": "0", "HTTPS": "1", "ALLOWED_HOSTS": "appointments.example.com", **env}


def check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], capture_output=True, text=True, cwd=ROOT,
        env=production(**env), timeout=120, check=False,
    )  # fmt: skip


def deploy_errors() -> dict[str, str]:
    """The ids and messages of the deploy checks' errors for the settings as they are now."""
    return {m.id: m.msg for m in run_checks(include_deployment_checks=True) if m.is_serious() and m.id}


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_a_one_letter_jitsi_secret_fails_check_deploy_as_an_operator_runs_it() -> None:
    result = check_deploy(SECRET_KEY=STRONG_KEY, JITSI_APP_ID="appointments", JITSI_APP_SECRET="a")
    assert result.returncode != 0
    assert "config.E004" in result.stderr
    assert "JITSI_APP_SECRET is too weak" in result.stderr


def test_strong_secrets_pass_check_deploy() -> None:
    result = check_deploy(SECRET_KEY=STRONG_KEY, JITSI_APP_ID="appointments", JITSI_APP_SECRET=STRONG_JITSI)
    assert result.returncode == 0, result.stderr
    assert "config.E" not in result.stdout + result.stderr
    assert "security.W009" not in result.stdout + result.stderr


def test_a_short_secret_key_fails_check_deploy_not_only_a_warning() -> None:
    result = check_deploy(SECRET_KEY="short-but-set")
    assert result.returncode != 0
    assert "config.E002" in result.stderr


@pytest.mark.parametrize(
    "secret",
    [
        "a",
        "x" * 64,  # long, one character
        "abcdefgh" * 4,  # 32 characters of a pattern
        "jitsi-app-secret",  # a word
        secrets.token_hex(12),  # random but 96 bits
    ],
)
def test_weak_jitsi_secrets_are_refused(settings, secret: str) -> None:
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = secret
    assert "config.E004" in deploy_errors()


@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(64)])
def test_random_jitsi_secrets_of_256_bits_pass(settings, secret: str) -> None:
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = secret
    assert not {id_ for id_ in deploy_errors() if id_.startswith("config.")}


def test_the_jitsi_secret_may_not_be_the_services_own_key(settings) -> None:
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = settings.SECRET_KEY
    assert "config.E005" in deploy_errors()


@pytest.mark.parametrize(
    ("secret_key", "weak"),
    [
        ("x" * 60, True),  # long enough, one character
        ("django-insecure-" + secrets.token_urlsafe(50), True),  # startproject's placeholder
        (secrets.token_urlsafe(20), True),
        (secrets.token_urlsafe(50), False),
    ],
)
def test_secret_key_as_django_judges_it_but_as_an_error(settings, secret_key: str, weak: bool) -> None:
    settings.SECRET_KEY = secret_key
    errors = deploy_errors()
    assert ("config.E002" in errors) is weak
    reported = {m.id for m in run_checks(include_deployment_checks=True) if not m.is_silenced()}
    assert "security.W009" not in reported  # said once, by ours


def test_a_weak_fallback_key_is_refused(settings) -> None:
    settings.SECRET_KEY_FALLBACKS = [secrets.token_urlsafe(50), "old-key"]
    errors = deploy_errors()
    assert "config.E003" in errors
    assert "SECRET_KEY_FALLBACKS[1]" in errors["config.E003"]


def test_a_missing_secret_key_is_named(settings) -> None:
    settings.SECRET_KEY = ""
    errors = deploy_errors()
    assert errors["config.E001"] == "SECRET_KEY is not set."


def test_the_jaas_private_key_is_rsa_of_2048_bits_or_more(settings) -> None:
    settings.JITSI_APP_ID = "vpaas-magic-cookie-123"
    settings.JITSI_APP_SECRET = ""
    settings.JITSI_KEY_ID = "vpaas-magic-cookie-123/abc"
    settings.JITSI_PRIVATE_KEY = pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 (the weak key refused)
    assert "config.E007" in deploy_errors()
    settings.JITSI_PRIVATE_KEY = pem(ec.generate_private_key(ec.SECP256R1()))
    assert "config.E007" in deploy_errors()
    settings.JITSI_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
    assert "config.E006" in deploy_errors()
    settings.JITSI_PRIVATE_KEY = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert not {id_ for id_ in deploy_errors() if id_.startswith("config.")}
