"""Everything the service holds about an appointment's claimant, as one document a person can read (issue 21.3),
and the search for a person's appointments. Both read the marks (config.personal) and the erasure's scopes, so the
export holds every column the erasure empties; each request is recorded (AccessRequest: who, when, what found)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from appointments.models import Appointment
from appointments.representation import representations
from appointments.shape import AppointmentShown
from claimants.models import Claimant, ClaimantData
from claimants.services import normalise_phone_number
from config.actors import Actor, staff_of
from config.local_time import local_label
from config.personal import personal_fields
from meetings.models import Participant
from privacy.erasure import erase_scope_rows, models_with_marks, needles_of
from privacy.erasure_scopes import SCOPES, Ids, searched_whole
from privacy.models import AccessKind, AccessRequest

MOST_FOUND = 100
# A row's own time, where its model has one, by column name (the first found).
_WHEN = ("history_date", "created_at", "at", "placed_at", "enqueued_at", "action_time", "sent_at")


def moment(value: datetime, zone: ZoneInfo) -> dict[str, str]:
    return {
        "utc": value.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z"),
        "local": local_label(value, zone),
    }


def _readable(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return moment(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _label(field: models.Field[Any, Any]) -> str:
    return str(field.verbose_name)


def _rows(model: type[models.Model], rows: models.QuerySet[Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    marks = personal_fields(model)
    names = {field.name for field in model._meta.concrete_fields}
    when = next((name for name in _WHEN if name in names), None)
    out = []
    for row in rows:
        shown: dict[str, Any] = {}
        if when is not None and getattr(row, when) is not None:
            shown["recorded"] = moment(getattr(row, when), zone)
        for field, _mark in marks:
            value = getattr(row, field.attname)
            if value not in (None, "", {}, []):
                shown[_label(field)] = _readable(value, zone)
        if len(shown) > (1 if "recorded" in shown else 0):
            out.append(shown)
    return out


def _staff(actor: Actor) -> Any:
    staff = staff_of(actor)
    assert staff is not None, "a person's data is asked for by a member of staff (a token's user, the back office)"
    return staff


def visible_appointment(user: Actor, pk: Any) -> Appointment | None:
    """The appointment if `user` may see it (tenancy), with its department."""
    return Appointment.objects.visible_to(user).select_related("department").filter(pk=pk).first()


def personal_data_export(*, appointment: Appointment, actor: Actor, door: str) -> dict[str, Any]:
    """The document, and the request recorded."""
    zone = appointment.zone
    claimant = Claimant.objects.get(appointment_id=appointment.pk)
    participants = list(Participant.objects.filter(appointment_id=appointment.pk))
    ids = Ids(appointment.pk, claimant.pk, [participant.pk for participant in participants])
    needles = needles_of(appointment, claimant, participants).only_identifying()
    held = []
    for model in models_with_marks():
        if model not in SCOPES and not searched_whole(model):
            continue
        rows = erase_scope_rows(model, ids, needles)
        found = _rows(model, rows.order_by("pk"), zone)
        if found:
            purposes = sorted({mark.purpose for _, mark in personal_fields(model)})
            held.append(
                {
                    "what": str(model._meta.verbose_name_plural).capitalize(),
                    "table": model._meta.db_table,
                    "why": purposes,
                    "rows": found,
                }
            )
    now = timezone.now()
    AccessRequest.objects.create(
        kind=AccessKind.EXPORT, appointment=appointment, found=1, asked_by=_staff(actor), asked_at=now, door=door
    )
    data = ClaimantData.objects.filter(claimant=claimant).select_related("field").order_by_field()
    return {
        "about": "Everything this service holds about the claimant of one appointment, table by table.",
        "generated": moment(now, zone),
        "time_zone": str(zone),
        "appointment": {
            "id": str(appointment.pk),
            "reference": appointment.reference,
            "department": appointment.department.name,
            "starts": moment(appointment.appointment_at, zone),
            "ends": moment(appointment.ends_at, zone),
            "status": appointment.get_status_display(),
        },
        "claimant": {
            "Name": claimant.name,
            "Email": claimant.email,
            "Phone number": claimant.phone_number,
            "Date of birth": claimant.date_of_birth.isoformat() if claimant.date_of_birth else None,
            **{item.field.name: item.value for item in data},
            **({"Erased": moment(claimant.erased_at, zone)} if claimant.erased_at else {}),
        },
        "held": held,
    }


def claimants_search(
    *, user: Any, email: str | None, phone: str | None, date_of_birth: date | None, door: str
) -> list[AppointmentShown]:
    """The caller's appointments whose claimant has this email (any case) or phone number (compared in E.164), and
    this date of birth when given; the request recorded (without what was searched for)."""
    if not email and not phone:
        raise ValidationError({"email": ["Give the email or the phone number of the person."]})
    matches = Claimant.objects.all()
    if email:
        matches = matches.filter(email__iexact=email.strip())
    if phone:
        try:
            matches = matches.filter(phone_number=normalise_phone_number(phone))
        except ValueError:
            raise ValidationError({"phone": ["The phone field must be a valid phone number."]}) from None
    if date_of_birth is not None:
        matches = matches.filter(date_of_birth=date_of_birth)
    found = Appointment.objects.visible_to(user).filter(pk__in=matches.values("appointment_id"))
    shown = representations(found.order_by("appointment_at", "id")[:MOST_FOUND])
    AccessRequest.objects.create(
        kind=AccessKind.SEARCH, found=len(shown), asked_by=_staff(user), asked_at=timezone.now(), door=door
    )
    return shown
