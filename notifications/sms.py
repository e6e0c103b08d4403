"""Text messages through a small backend interface, since providers differ: a backend is a class with
`send(to, text)`, named by the SMS_BACKEND setting. A provider's backend raises on failure (the task retries)."""

from __future__ import annotations

import logging
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class BaseBackend:
    def send(self, to: str, text: str) -> None:
        raise NotImplementedError


class LoggingBackend(BaseBackend):
    """The default: a log line per message. The number is masked and the text left out: it holds the
    claimant's private link."""

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s (%d characters) not sent: SMS_BACKEND is the logging backend", mask(to), len(text))


class MemoryBackend(BaseBackend):
    """Keeps messages in `MemoryBackend.outbox`, as Django's locmem email backend does (tests)."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, text: str) -> None:
        self.outbox.append((to, text))


def mask(number: str) -> str:
    return number[:3] + "*" * max(0, len(number) - 6) + number[-3:]


def send_sms(to: str, text: str) -> None:
    backend: BaseBackend = import_string(settings.SMS_BACKEND)()
    backend.send(to, text)
