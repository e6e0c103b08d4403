"""The video meeting of an appointment and the people who attend it."""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from config.personal import Category, Erase, personal

_IDENTITY = "to stop someone else with the link from guessing the claimant's date of birth"
_BROWSER = "to know the browser that holds the link (the key's SHA-256; the key is never kept)"
MEETING_ID_MIN = 1_000_000_000
MEETING_ID_MAX = 9_999_999_999


class Meeting(models.Model):
    """One per appointment, created with it; its times follow every reschedule of the appointment."""

    # A 10-digit number, as the original's meetings have; drawn at random so it does not count appointments.
    id = models.BigIntegerField(primary_key=True, editable=False)
    appointment = models.OneToOneField("appointments.Appointment", on_delete=models.CASCADE, related_name="meeting")
    room_name = models.CharField(max_length=200)
    room_url = models.URLField(max_length=500, unique=True)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    # Every change, with who made it: services write through config.history (docs/decisions.md, issue 19.3).
    history = HistoricalRecords(cascade_delete_history=False)

    if TYPE_CHECKING:
        appointment_id: uuid.UUID

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(id__gte=MEETING_ID_MIN, id__lte=MEETING_ID_MAX), name="meeting_id_digits"
            ),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="meeting_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.room_name} ({self.id})"


class Role(models.TextChoices):
    AGENT = "agent"
    CLAIMANT = "claimant"
    INTERPRETER = "interpreter"
    GUEST = "guest"


# Roles an appointment has at most one live participant of; guests are as many as the agent invites.
SINGLE_ROLES = (Role.AGENT, Role.CLAIMANT, Role.INTERPRETER)
# Roles the agent admits one by one, also into a running session (issue 17.9): their link may have been forwarded.
# The claimant is admitted by the session's start (and goes straight in once it has started).
ADMITTED_ONE_BY_ONE = (Role.INTERPRETER, Role.GUEST)


def _join_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: a link cannot be found by guessing


class Participant(models.Model):
    """Someone who attends an appointment's meeting, with a link of their own (`/join/<token>`).

    The claimant's token is the appointment's `public_token` (the representation's `url`); an interpreter and
    each invited guest get one of their own; the agent signs in to the back office instead. What the claimant's
    journey records (device check, identity check, consent, waiting, admission) is kept here as evidence for
    the organisation, with history; the heartbeat (`last_seen_at`) is written without history.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey("appointments.Appointment", on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(max_length=20, choices=Role.choices)
    display_name = personal(
        models.CharField(max_length=200), Category.NAME, "to name them on the pages and to the agent"
    )
    token = personal(
        models.CharField(max_length=64, unique=True, default=_join_token, editable=False),
        Category.IDENTIFIER,
        "their own link to the meeting",
        Erase.NEW_SECRET,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    joined_waiting_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    # Who let them in: the staff member who started the session (the claimant waiting then) or admitted an
    # interpreter or guest one by one (issue 17.9); null when nobody did, or when the claimant came in after the
    # start (the session's start let them in).
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    left_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    # The link's own identity check: when it was last passed, wrong answers from every browser, the link's lock.
    identity_checked_at = personal(models.DateTimeField(null=True, blank=True), Category.IDENTITY_CHECK, _IDENTITY)
    identity_failures = personal(models.PositiveSmallIntegerField(default=0), Category.IDENTITY_CHECK, _IDENTITY)
    identity_locked_at = personal(models.DateTimeField(null=True, blank=True), Category.IDENTITY_CHECK, _IDENTITY)
    # The browser that holds the link: the SHA-256 of the key in its cookie for this link (meetings.browsers), set
    # by passing the identity check or, on a link without one, by joining; null until then. The key itself is
    # never stored. Another browser that does the same takes over.
    browser_digest = personal(
        models.CharField(max_length=64, null=True, blank=True, editable=False), Category.IDENTIFIER, _BROWSER
    )

    recording_consent = models.BooleanField(null=True, blank=True)
    recording_consent_at = models.DateTimeField(null=True, blank=True)

    device_check = personal(
        models.JSONField(null=True, blank=True), Category.IDENTITY_CHECK, "to help them when the camera or sound fails"
    )
    device_checked_at = models.DateTimeField(null=True, blank=True)
    # When the back office's waiting room last showed this participant waiting (issue 22.6): from then on, until
    # they join again, their page says the agent knows they are here. Written by the waiting room's read, without
    # history, as the heartbeat is.
    shown_to_staff_at = models.DateTimeField(null=True, blank=True)
    # When staff last sent them a message (WaitingMessage): the status poll reads the message only when one came
    # since they joined, so a poll without one stays a single read.
    message_sent_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(
        cascade_delete_history=False, excluded_fields=["last_seen_at", "shown_to_staff_at", "message_sent_at"]
    )

    if TYPE_CHECKING:
        appointment_id: uuid.UUID

    class Meta:
        ordering = ["appointment", "created_at"]
        # The few links locked by wrong dates of birth: the back office's Needs attention reads only these.
        indexes = [
            models.Index(
                fields=["appointment"],
                name="participant_identity_locked",
                condition=Q(identity_locked_at__isnull=False),
            ),
            # The claimants' waits (joined to let in), which the managers' dashboard averages per agent over a
            # week's appointments: each appointment's found in this index alone, without reading the participants'
            # rows (issue 26.3: at a million appointments, 8,351 buffers read against 14,247).
            models.Index(
                fields=["appointment"],
                include=["joined_waiting_at", "admitted_at"],
                name="participant_claimant_waited",
                condition=Q(role=Role.CLAIMANT, joined_waiting_at__isnull=False, admitted_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="participant_role_valid"),
            models.UniqueConstraint(
                fields=["appointment", "role"],
                condition=Q(role__in=SINGLE_ROLES, revoked_at__isnull=True),
                name="participant_one_live_per_single_role",
            ),
            models.CheckConstraint(
                condition=Q(recording_consent__isnull=True) | Q(recording_consent_at__isnull=False),
                name="participant_consent_has_its_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role})"

    @property
    def history_label(self) -> str:
        """How the history names a change this participant made from their page (they are no user)."""
        if self.role == Role.CLAIMANT:
            return "the claimant (own link)"
        return f"{self.role}: {self.display_name} (own link)"


class ParticipantBrowser(models.Model):
    """A browser that typed a wrong date of birth on a participant's link: its wrong answers there and its
    lock-out (IDENTITY_MAX_FAILURES), known by the SHA-256 of the key in its cookie for that link. Counting per
    browser keeps someone with a forwarded link from locking the claimant's own browser out; the link's own count
    (Participant.identity_failures, IDENTITY_LINK_MAX_FAILURES) keeps a new browser each time from guessing on."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="browsers")
    digest = personal(models.CharField(max_length=64), Category.IDENTIFIER, _BROWSER, Erase.DELETE)
    identity_failures = personal(
        models.PositiveSmallIntegerField(default=0), Category.IDENTITY_CHECK, _IDENTITY, Erase.DELETE
    )
    identity_locked_at = personal(
        models.DateTimeField(null=True, blank=True), Category.IDENTITY_CHECK, _IDENTITY, Erase.DELETE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "digest"], name="participant_browser_once")]

    def __str__(self) -> str:
        return f"a browser of {self.participant}"


class WaitingMessage(models.Model):
    """A short message staff sent to a participant in the waiting room (issue 22.6): one of the prepared messages
    (`prepared`, shown in the participant's language) or free text (`text`, shown as written, escaped). Kept as
    the record of what the participant was told; their page shows the latest."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="waiting_messages")
    prepared = models.CharField(max_length=40, blank=True, default="")
    # Staff's own words to the person waiting may name them or their case; erasure removes the message (a prepared
    # one says nothing about them, but an empty row would say nothing at all).
    text = personal(
        models.CharField(max_length=300, blank=True, default=""),
        Category.CASE_DATA,
        "what staff told them while they waited",
        Erase.DELETE,
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    if TYPE_CHECKING:
        participant_id: uuid.UUID

    class Meta:
        indexes = [models.Index(fields=["participant", "-created_at"], name="waiting_message_latest")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(prepared="") & ~Q(text="")) | (~Q(prepared="") & Q(text="")),
                name="waiting_message_prepared_or_text",
            )
        ]

    def __str__(self) -> str:
        return f"a message to {self.participant}"
