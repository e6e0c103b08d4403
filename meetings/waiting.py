"""The waiting room, as the participant waiting in it reads it (issue 22.6): who they wait for, that staff have seen
them there, the messages staff send them; and the language to tell them in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import override as language_override

from appointments.models import Appointment
from config.actors import Actor, staff_of
from config.languages import first_of
from ledger.services import Happening, about, lock_appointment, record
from meetings.models import Participant, Role, WaitingMessage
from meetings.page_language import participant_language
from meetings.services import still_waiting

# The messages staff can send with one click, each shown in the participant's own language; the key is what is
# stored and what the API takes.
PREPARED_MESSAGES = {
    "running_late_5": gettext_noop("I am running five minutes late."),
    "running_late_10": gettext_noop("I am running ten minutes late."),
    "with_you_soon": gettext_noop("I will be with you in a moment."),
    "technical_problem": gettext_noop("I have a technical problem. Please keep waiting."),
}
MESSAGE_MAX_LENGTH = WaitingMessage._meta.get_field("text").max_length or 300


def claimant_language(appointment: Appointment) -> str:
    """The claimant's language as staff see it: their preferred language once the claimant records one (issue
    22.1), else the department's default, else English. The one place the back office reads it, to switch to the
    column's reader when it lands."""
    preferred = getattr(appointment.claimant, "preferred_language", None)
    return first_of(preferred, getattr(appointment.department, "default_language", None))


def waiting_for(appointment: Appointment) -> str:
    """Whom the participant waits for: the assigned agent's name, or else the department."""
    agent = appointment.agent
    return (agent.get_full_name() if agent is not None else "") or str(appointment.department.shown_name)


def staff_know(participant: Participant) -> bool:
    """Whether the back office's waiting room has shown this participant since they last joined it."""
    shown, joined = participant.shown_to_staff_at, participant.joined_waiting_at
    return shown is not None and joined is not None and shown >= joined


def participants_shown_to_staff(participants: Iterable[Participant], *, now: datetime | None = None) -> int:
    """The back office's waiting room has shown these waiting participants: note when, for each not noted since
    they joined (one UPDATE, without history, as the heartbeat)."""
    ids = [p.pk for p in participants if p.joined_waiting_at is not None and p.left_at is None and not staff_know(p)]
    if not ids:
        return 0
    when = now or timezone.now()
    return Participant.objects.filter(
        Q(shown_to_staff_at__isnull=True) | Q(shown_to_staff_at__lt=F("joined_waiting_at")), pk__in=ids
    ).update(shown_to_staff_at=when)


def participant_send_message(
    *, participant: Participant, actor: Actor, prepared: str = "", text: str = ""
) -> WaitingMessage:
    """Staff tell a participant in the waiting room something: a prepared message (by its key) or a short text.

    Only someone still waiting (for the start, or to be let in) can be told; the page shows the latest message at
    its next poll. Bad input is a ValidationError on `prepared` or `text` and sends nothing."""
    text = text.strip()
    if prepared and text:
        raise ValidationError({"text": ["Send either a prepared message or a text, not both."]})
    if prepared and prepared not in PREPARED_MESSAGES:
        raise ValidationError({"prepared": [f"The prepared message must be one of: {', '.join(PREPARED_MESSAGES)}."]})
    if not prepared and not text:
        raise ValidationError({"text": ["Write a message or choose a prepared one."]})
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError({"text": [f"The text may not be greater than {MESSAGE_MAX_LENGTH} characters."]})
    if participant.role == Role.AGENT or participant.revoked_at is not None or not still_waiting(participant):
        raise ValidationError({"participant": ["This participant is not in the waiting room."]})
    message = WaitingMessage(participant=participant, prepared=prepared, text=text, sent_by=staff_of(actor))
    with transaction.atomic():
        lock_appointment(participant.appointment_id)  # the ledger's entry is written under the appointment's lock
        message.save(force_insert=True)
        # The ledger keeps which prepared message, or that a text was sent; the text itself only as personal data.
        happening = Happening(
            "participant.messaged",
            {**about(participant), "prepared": prepared or None},
            {"text": text} if text else {},
        )
        record(participant.appointment_id, [happening], actor=actor)
        Participant.objects.filter(pk=participant.pk).update(message_sent_at=message.created_at)
    participant.message_sent_at = message.created_at
    return message


def message_text(message: WaitingMessage, language: str | None = None) -> str:
    """The message as its reader sees it: a prepared one in `language` (else the active one), a text as written."""
    if not message.prepared:
        return message.text
    if language is None:
        return gettext(PREPARED_MESSAGES[message.prepared])
    with language_override(language):
        return gettext(PREPARED_MESSAGES[message.prepared])


def latest_message(participant: Participant) -> WaitingMessage | None:
    """The latest message to the participant since they last joined the waiting room (one indexed query, only when
    one was sent since)."""
    joined, sent = participant.joined_waiting_at, participant.message_sent_at
    if joined is None or sent is None or sent < joined:
        return None
    return (
        WaitingMessage.objects.filter(participant=participant, created_at__gte=joined)
        # what the participant's page language needs, in the same query (meetings.page_language)
        .select_related("participant__appointment__claimant", "participant__appointment__department")
        .order_by("-created_at")
        .first()
    )


def waiting_page(participant: Participant, now: datetime) -> dict[str, Any]:
    """What the participant's page says in the waiting room: whom they wait for, whether staff know they are
    there, since when, the latest message (in the page's language) and the department's contact."""
    appointment = participant.appointment
    message = latest_message(participant)
    joined = participant.joined_waiting_at or now
    return {
        "who": waiting_for(appointment),
        "staff_know": staff_know(participant),
        "joined_at": joined,
        "minutes": max(0, int((now - joined).total_seconds() // 60)),
        "message": message_text(message) if message else "",
        "message_id": message.pk if message else "",
        "contact": appointment.department.contact,
    }


def waiting_poll(participant: Participant, request: HttpRequest) -> dict[str, Any]:
    """What the status poll adds in the waiting room, only where there is something: that staff know the
    participant is there, and the latest message (a second read only when a message came since they joined)."""
    extra: dict[str, Any] = {}
    if staff_know(participant):
        extra["staff_know"] = True
    message = latest_message(participant)
    if message is not None:
        # The poll reads no claimant or department: the message's query brings them, for the page's language.
        language = participant_language(request, message.participant)
        extra["message"] = {"id": message.pk, "text": message_text(message, language)}
    return extra
