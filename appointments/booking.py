"""Booking in the back office (a claimant who phoned in): the same service as the API's create, the same errors,
shown on the form; the time is entered in the department's zone, and a time the clocks skip or repeat is refused
rather than guessed."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from appointments.forms import form_field_for, staff_name
from appointments.local_time import local_moment
from appointments.models import MAX_DURATION, MIN_DURATION, Appointment, Department
from appointments.services import appointment_create
from appointments.widgets import DateInput, TimeInput
from claimants.models import ClaimantDataField, FieldType
from config.actors import Actor


class BookingForm(forms.Form):
    actor: Actor = None
    department: Department

    date = forms.DateField(widget=DateInput)
    time = forms.TimeField(widget=TimeInput)
    duration_in_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=MIN_DURATION, max_value=MAX_DURATION, initial=60
    )
    claimant_name = forms.CharField(label="Claimant's name", max_length=255)
    claimant_phone_number = forms.CharField(label="Phone number", max_length=40, required=False)
    claimant_email = forms.CharField(label="Email", max_length=254, required=False)
    claimant_date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput)
    agent = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    is_interpreter_needed = forms.BooleanField(label="Interpreter needed", required=False)
    interpreter_language = forms.CharField(max_length=100, required=False)

    def __init__(self, *args: Any, department: Department, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.department, self.actor = department, actor
        self.zone = ZoneInfo(department.time_zone)
        self.fields["time"].label = f"Time ({department.time_zone.replace('_', ' ')})"
        agent = self.fields["agent"]
        assert isinstance(agent, forms.ModelChoiceField)
        agent.queryset = (
            get_user_model()
            .objects.filter(is_active=True, is_staff=True, departments=department)
            .order_by("first_name", "last_name", "username")
        )
        agent.label_from_instance = staff_name  # type: ignore[method-assign,assignment]
        self.data_fields = list(ClaimantDataField.objects.filter(department=department).order_by("position", "name"))
        for field in self.data_fields:
            label = f"{field.name}{' (required)' if field.required else ''}"
            widget = DateInput if field.type == FieldType.DATE else None
            self.fields[f"data_{field.pk}"] = forms.CharField(label=label, required=False, widget=widget)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            appointment_at = local_moment(cleaned["date"], cleaned["time"], self.zone)
        except ValidationError as exc:
            self.add_error("time", exc)
            return cleaned
        claimant: dict[str, Any] = {"name": cleaned["claimant_name"]}
        for name in ("phone_number", "email", "date_of_birth"):
            value = cleaned.get(f"claimant_{name}")
            if value not in (None, ""):
                claimant[name] = value
        claimant["data"] = {str(field.pk): self.cleaned_data[f"data_{field.pk}"] or None for field in self.data_fields}
        options: dict[str, Any] = {"is_interpreter_needed": cleaned["is_interpreter_needed"]}
        if cleaned.get("interpreter_language"):
            options["interpreter_language"] = cleaned["interpreter_language"]
        if cleaned.get("agent") is not None:
            options["agent_id"] = cleaned["agent"].pk
        try:
            self.booked: Appointment = appointment_create(
                department=self.department,
                appointment_at=appointment_at,
                duration_in_minutes=cleaned["duration_in_minutes"],
                claimant=claimant,
                actor=self.actor,
                **options,
            )
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                self.add_error(self._form_field(key), errors)
        return cleaned

    def _form_field(self, key: str) -> str | None:
        def item(wanted: str) -> str | None:
            return next((f"data_{f.pk}" for f in self.data_fields if wanted in (f.name, str(f.pk))), None)

        renamed = {"appointment_at": "time", "agent_id": "agent", "department_id": None}
        return form_field_for(key, self.fields, renamed, item)
