"""The browser a participant's page is open in, known by a random key in a cookie for that link.

The key is minted when a browser first opens the link and changes when it passes the identity check; only its
SHA-256 is stored (the link's holder on the participant, wrong answers in ParticipantBrowser). The cookie itself
(signed, HttpOnly, SameSite=Lax, Secure under HTTPS, scoped to the link's path) is the public pages' business:
meetings.views. Nothing here is personal, and nothing here is ever logged.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Value

from meetings.models import Participant, ParticipantBrowser

_KEY_BYTES = 32  # 256 bits: a key cannot be guessed, and it is worth nothing without the link anyway


def new_browser_key() -> str:
    return secrets.token_urlsafe(_KEY_BYTES)


def browser_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Browser:
    """A browser looking at a participant's page: the digest of its key (None when it sent no valid cookie) and
    whether it is locked out of this link by its own wrong answers."""

    digest: str | None
    locked_out: bool = False

    def holds(self, participant: Participant) -> bool:
        """This browser holds the link: it passed the identity check (or joined, on a link without one) last."""
        return self.digest is not None and participant.browser_digest == self.digest


def participants_seen_by(digest: str | None) -> QuerySet[Participant]:
    """Participants annotated with `browser_locked_out` for this browser, so a page reads it in its one query."""
    if digest is None:
        return Participant.objects.annotate(browser_locked_out=Value(False))
    locked_out = ParticipantBrowser.objects.filter(
        participant=OuterRef("pk"), digest=digest, identity_locked_at__isnull=False
    )
    return Participant.objects.annotate(browser_locked_out=Exists(locked_out))


def browser_of(participant: Participant, digest: str | None) -> Browser:
    """The browser with this digest, as a participant read through `participants_seen_by` knows it."""
    return Browser(digest=digest, locked_out=bool(getattr(participant, "browser_locked_out", False)))
