"""Erasing a claimant's personal data from every copy the service holds (issue 21.2).

One service, `appointment_erase`, for the API, the back office, the retention task and `manage.py purge_expired`:
under the appointment's lock, every marked column (config.personal) of every row of the appointment
(privacy.erasure_scopes) is emptied as its mark says, in the live rows and every history row, the event payloads,
the webhook answers, the notifications, the idempotency keys' answers; tables with no path to the appointment (task
results, the admin's log) are searched for the claimant's values. The claimant row keeps `erased_at`, the
participants' links are revoked, and the live rows' new state gets its history row (who erased). What is not
personal stays: times, status, department, agent, outcome. The receipt (Erasure) counts the rows changed per table;
a second erasure answers it again and changes nothing. An appointment on legal hold is refused (OnHold).
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from appointments.models import Appointment
from appointments.selectors import appointment_locked
from claimants.models import Claimant, ClaimantData
from config.actors import Actor, staff_of
from config.api.fields import milliseconds
from config.history import history_copy
from config.personal import Erase, Personal, personal_fields
from config.transactions import block
from events.models import EventType
from events.services import events_record
from ledger.models import Entry
from ledger.services import erase_personal
from meetings.models import Participant, Role
from privacy.erasure_scopes import SCOPES, Ids, searched_whole
from privacy.models import Erasure, LegalHold, Reason
from privacy.scrub import SHORTEST_INSIDE, Needles, scrub_json, scrub_json_text


class OnHold(Exception):
    """The appointment is on legal hold: nothing is erased."""

    def __init__(self, hold: LegalHold) -> None:
        super().__init__(hold.reason)
        self.hold = hold


def appointment_erase(
    *, appointment_id: uuid.UUID | str, actor: Actor, reason: str = Reason.REQUEST, viewer: Actor = None
) -> Erasure:
    """Erase the claimant's personal data of one appointment (among those `viewer` may see; Appointment.DoesNotExist
    otherwise) and answer the receipt; an appointment already erased answers its receipt and changes nothing."""
    with block():
        locked = appointment_locked(appointment_id, viewer)
        done = Erasure.objects.filter(appointment=locked).first()
        if done is not None:
            return done
        hold = hold_in_force(locked)
        if hold is not None:
            raise OnHold(hold)
        now = timezone.now()
        counts = erase_rows(locked, now, actor)
        erasure = Erasure.objects.create(
            appointment=locked, erased_at=now, reason=reason, erased_by=staff_of(actor), counts=counts
        )
        # What subscribers need to erase their copies, and nothing personal: no representation, no link.
        shown = {
            "id": str(locked.pk),
            "reference": locked.reference,
            "department": {"id": str(locked.department_id)},
            "claimant": {"erased_at": milliseconds(now)},
        }
        events_record(
            appointment=locked, events=[(EventType.APPOINTMENT_ERASED, {})], actor=actor, representation=shown
        )
        return erasure


def hold_in_force(appointment: Appointment) -> LegalHold | None:
    """The appointment's legal hold in force today (in its department's zone), if any."""
    today = timezone.now().astimezone(appointment.zone).date()
    return LegalHold.objects.active(today).filter(appointment_id=appointment.pk).first()


def needles_of(appointment: Appointment, claimant: Claimant, participants: list[Participant]) -> Needles:
    """Every value of the claimant the service may have written anywhere: each version of their details, data
    values, participants' names (not the agent's), and the links' tokens (to be replaced by new secrets)."""
    needles = Needles()
    tokens = {appointment.public_token, *(participant.token for participant in participants)}
    for token in sorted(tokens):
        needles.add(token, secrets.token_urlsafe(24))
    versions: Any = Claimant.history.model._default_manager.filter(id=claimant.pk)
    for version in [claimant, *versions]:
        needles.add(version.name)
        needles.add(version.email)
        needles.add_phone(version.phone_number)
        needles.add_date(version.date_of_birth)
    data_history: Any = ClaimantData.history.model._default_manager
    values = [*ClaimantData.objects.filter(claimant=claimant).values_list("value", flat=True)]
    values += data_history.filter(claimant_id=claimant.pk).values_list("value", flat=True)
    for value in values:
        if value is not None and len(value) >= SHORTEST_INSIDE:
            needles.add(value, identifying=False)
    names: Any = Participant.history.model._default_manager.filter(
        id__in=[participant.pk for participant in participants]
    )
    for participant in [*participants, *names]:
        if participant.role != Role.AGENT:
            needles.add(participant.display_name)
    return needles


def erase_rows(appointment: Appointment, now: datetime, actor: Actor) -> dict[str, int]:
    """Empty every marked column of the appointment's rows; the rows changed (or deleted) per table."""
    claimant = Claimant.objects.get(appointment_id=appointment.pk)
    participants = list(Participant.objects.filter(appointment_id=appointment.pk))
    ids = Ids(appointment.pk, claimant.pk, [participant.pk for participant in participants])
    needles = needles_of(appointment, claimant, participants)
    changed: dict[type[models.Model], set[Any]] = defaultdict(set)
    # First: the name may be null only once erased (a check constraint).
    Claimant.objects.filter(pk=claimant.pk).update(erased_at=now)
    changed[Claimant].add(claimant.pk)
    for model in models_with_marks():
        inside = needles if model in SCOPES else needles.only_identifying()
        changed[model] |= _erase(model, erase_scope_rows(model, ids, inside), inside)
    live = Participant.objects.filter(pk__in=ids.participants, revoked_at__isnull=True)
    changed[Participant] |= set(live.values_list("pk", flat=True))
    live.update(revoked_at=now)
    for model in (Appointment, Claimant, ClaimantData, Participant):
        history_copy(model, sorted(changed[model], key=str), actor)
    return {model._meta.db_table: len(pks) for model, pks in sorted(changed.items(), key=_table) if pks}


def erase_scope_rows(model: type[models.Model], ids: Ids, needles: Needles) -> models.QuerySet[Any]:
    """The rows of `model` that belong to the appointment: its scope, or those holding one of the values."""
    if model in SCOPES:
        return SCOPES[model](ids)
    if searched_whole(model):
        return _searched(model, needles)
    raise LookupError(f"{model._meta.label} has personal columns and no erasure scope (privacy.erasure_scopes)")


def _table(item: tuple[type[models.Model], set[Any]]) -> str:
    return item[0]._meta.db_table


def models_with_marks() -> list[type[models.Model]]:
    from django.apps import apps

    return [model for model in apps.get_models() if personal_fields(model)]


def _searched(model: type[models.Model], needles: Needles) -> models.QuerySet[Any]:
    """The rows of a table with no path to the appointment that hold one of the claimant's values."""
    rows = model._default_manager.all()
    wanted = Q()
    for field, _mark in personal_fields(model):
        name = field.attname
        if isinstance(field, models.JSONField):
            rows = rows.annotate(**{f"{name}_text": Cast(name, TextField())})
            name = f"{name}_text"
        for value in needles.searchable:
            wanted |= Q(**{f"{name}__icontains": value})
    return rows.filter(wanted) if needles.searchable else rows.none()


def _erase(model: type[models.Model], rows: models.QuerySet[Any], needles: Needles) -> set[Any]:
    """Empty the marked columns of `rows`; the keys of the rows changed or deleted."""
    if model is Entry:
        # The ledger's rows refuse every change but emptying their personal part (a trigger): its own function does.
        keys = set(rows.filter(personal__isnull=False).values_list("pk", flat=True))
        ids = set(rows.values_list("appointment_id", flat=True))
        emptied = sum(erase_personal(appointment_id) for appointment_id in ids)
        assert emptied == len(keys), "the ledger emptied the entries read as having a personal part"
        return keys
    marks = personal_fields(model)
    if all(mark.erase == Erase.DELETE for _, mark in marks):
        keys = set(rows.values_list("pk", flat=True))
        model._default_manager.filter(pk__in=keys).delete()
        return keys
    names = [field.attname for field, _ in marks]
    keys = set()
    for pk, *values in rows.values_list("pk", *names):
        changes = {}
        for (field, mark), value in zip(marks, values, strict=True):
            erased = _erased(field, mark, value, needles)
            if erased != value:
                changes[field.attname] = erased
        if changes:
            model._default_manager.filter(pk=pk).update(**changes)
            keys.add(pk)
    return keys


def _erased(field: models.Field[Any, Any], mark: Personal, value: Any, needles: Needles) -> Any:
    if mark.erase == Erase.NEW_SECRET:
        return needles.replacements.get(value) or secrets.token_urlsafe(24)
    if mark.erase == Erase.SCRUB:
        if value is None:
            return None
        if isinstance(field, models.JSONField):
            return scrub_json(value, needles)
        text = str(value)
        return scrub_json_text(text, needles) if text.lstrip()[:1] in ("{", "[") else needles.text(text)
    if field.null:
        return None
    return field.get_default() if field.has_default() else ""
