"""Text messages through a small backend interface, since providers differ: a backend is a class with
`send(to, text)`, named by the SMS_BACKEND setting. A provider's backend raises on failure (the task retries).

Without a backend (SMS_BACKEND unset, production's default, or `none`) no text message is attempted: each is
recorded as "not configured", never as sent."""

from __future__ import annotations

import logging
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


OFF = "none"  # SMS_BACKEND=none: this service sends no text messages, on purpose (check --deploy does not warn)


class BaseBackend:
    # Whether a message this backend accepts reaches a phone (check --deploy warns about one that does not).
    delivers: ClassVar[bool] = True

    @property
    def timeout(self) -> float:
        """Seconds the provider may take to answer (SMS_TIMEOUT_SECONDS): a provider's backend passes it to every
        request it makes, so a provider that stalls fails the message, which is tried again later, and never holds
        up the worker (issue 18.3)."""
        return float(settings.SMS_TIMEOUT_SECONDS)

    def send(self, to: str, text: str) -> None:
        raise NotImplementedError


class LoggingBackend(BaseBackend):
    """Development's default (DEBUG): a log line per message. The number is masked and the text left out: it
    holds the claimant's private link."""

    delivers = False

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s (%d characters) not sent: SMS_BACKEND is the logging backend", mask(to), len(text))


class MemoryBackend(BaseBackend):
    """Keeps messages in `MemoryBackend.outbox`, as Django's locmem email backend does (tests)."""

    delivers = False

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, text: str) -> None:
        self.outbox.append((to, text))


def mask(number: str) -> str:
    return number[:3] + "*" * max(0, len(number) - 6) + number[-3:]


def sms_configured() -> bool:
    """Whether SMS_BACKEND names a backend: without one text messages are not attempted."""
    return settings.SMS_BACKEND not in ("", OFF)


def sms_backend() -> type[BaseBackend]:
    backend: type[BaseBackend] = import_string(settings.SMS_BACKEND)
    return backend


def send_sms(to: str, text: str) -> None:
    sms_backend()().send(to, text)
