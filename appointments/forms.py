"""Back-office forms for appointments: the change page (appointment, claimant and data items in one
service call) and the cancel action's reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone

from appointments.local_time import local_label
from appointments.models import TRANSITIONS, WRITABLE_FIELDS, Appointment, Department, Status
from appointments.selectors import claimant_data_items
from appointments.services import appointment_update
from appointments.slots import next_free_times
from appointments.widgets import DateInput, LocalDateTimeField
from appointments.words import FORM_LABELS, field_label, staff_name
from claimants.models import CLAIMANT_WRITABLE_FIELDS, ClaimantDataField, FieldType
from claimants.services import claimant_data_field_plan_change
from config.actors import Actor

CLAIMANT_FIELDS = CLAIMANT_WRITABLE_FIELDS
__all__ = ["staff_name"]  # where the admin and the booking form import it from
FREE_TIMES_WITHIN = timedelta(days=14)
FREE_TIMES_OFFERED = 40


class AppointmentAdminForm(forms.ModelForm):
    """The appointment with its claimant and the claimant's data items, saved in one service call.

    Model validation is left to the service (`_post_clean` is off): it knows the rules the model cannot (the
    lifecycle, rescheduling, data types), and it is what the API runs, so the messages are the same.
    """

    actor: Actor = None  # set per request by AppointmentAdmin.get_form

    appointment_at = LocalDateTimeField(label=FORM_LABELS["appointment_at"])
    claimant_name = forms.CharField(label="Name", max_length=255)
    claimant_phone_number = forms.CharField(label="Phone number", max_length=40, required=False)
    claimant_email = forms.CharField(label="Email", max_length=254, required=False)
    claimant_date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput)
    claimant_preferred_language = forms.ChoiceField(
        label="Preferred language",
        choices=[("", "Not chosen: the department's default"), *settings.LANGUAGES],
        required=False,
        help_text="Their pages, emails, text messages and calendar invitations are in this language.",
    )
    # Plain text: the service validates redirect URLs as the API does (absolute http(s)), never guessing a scheme.
    custom_user_post_call_redirect_url = forms.CharField(max_length=2000, required=False)
    custom_agent_post_call_redirect_url = forms.CharField(max_length=2000, required=False)

    # Issue 23.4: a reschedule into one of the agent's free times (the same reader as the API's slots and the
    # booking form); chosen, it is the new time, whatever the date and time fields say.
    free_time = forms.ChoiceField(label="Move to a free time", required=False)

    class Meta:
        model = Appointment
        fields = list(WRITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "department" in self.fields:
            self.fields["department"].queryset = Department.objects.visible_to(self.actor)  # type: ignore[attr-defined]
        if "agent" in self.fields and not self.instance._state.adding:
            agent = self.fields["agent"]
            assert isinstance(agent, forms.ModelChoiceField)
            agent.queryset = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True, departments=self.instance.department_id)
                .order_by("first_name", "last_name", "username")
            )
            agent.label_from_instance = staff_name  # type: ignore[method-assign,assignment]
            agent.help_text = "A staff member of the department; their live appointments may not overlap."
        for name, label in FORM_LABELS.items():  # what the history and the timeline call them too
            if name in self.fields:
                self.fields[name].label = label
        if "status" in self.fields and not self.instance._state.adding:
            # Only what the lifecycle allows from here (the service says so too, for any other way in).
            current = self.instance.status
            allowed = {current, *TRANSITIONS[current]}
            status = self.fields["status"]
            assert isinstance(status, forms.ChoiceField)
            status.choices = [(value, label) for value, label in Status.choices if value in allowed]
        if "appointment_at" in self.fields and not self.instance._state.adding:
            moment = self.fields["appointment_at"]
            assert isinstance(moment, LocalDateTimeField)
            moment.kept = self.instance.appointment_at
            zone = self.instance.department.time_zone
            self.fields["appointment_at"].label = f"{FORM_LABELS['appointment_at']} ({zone.replace('_', ' ')})"
            self.fields["appointment_at"].help_text = "In the department's time zone; the API shows it in UTC."
            # The night the clocks repeat the time shown or typed, both its readings to choose from (issue 24.5).
            moment.offer_readings(self["appointment_at"].value(), ZoneInfo(zone))  # as posted, else as stored
        self._offer_free_times()
        claimant = self.instance.claimant
        for name in CLAIMANT_FIELDS:
            self.fields[f"claimant_{name}"].initial = getattr(claimant, name)
        self.data_items = {str(item.pk): item for item in claimant_data_items(self.instance)}
        for key, item in self.data_items.items():
            self.fields[f"data_{key}"] = self._data_field(item.field, item.value)

    def _offer_free_times(self) -> None:
        """The agent's next free times for this appointment's length (as if this one were not there), in
        the department's zone; none offered when it has no agent or is no longer scheduled."""
        field = self.fields.get("free_time")
        appointment = self.instance
        if not isinstance(field, forms.ChoiceField):
            return
        if appointment._state.adding or appointment.agent_id is None or appointment.status != Status.SCHEDULED:
            del self.fields["free_time"]
            return
        now = timezone.now()
        found = next_free_times(
            department=appointment.department,
            after=now,
            duration=appointment.duration_in_minutes,
            now=now,
            agent_id=appointment.agent_id,
            exclude=appointment.pk,
            within=FREE_TIMES_WITHIN,
            count=FREE_TIMES_OFFERED + 1,  # its own time may be among them, and is not offered
        )
        found = [time for time in found if time.start != appointment.appointment_at][:FREE_TIMES_OFFERED]
        zone = ZoneInfo(appointment.department.time_zone)
        free = [(time.start.isoformat(), local_label(time.start, zone)) for time in found]
        empty = f"Choose one of {staff_name(appointment.agent)}'s next free times" if free else "No free time soon"
        field.choices = [("", empty), *free]
        field.help_text = "Their working hours, clear of their appointments and buffers; it replaces the time above."

    @staticmethod
    def _data_field(data_field: ClaimantDataField, value: str | None) -> forms.Field:
        label = data_field.name
        if data_field.type == FieldType.BOOLEAN:
            choices = [("", "—"), ("true", "Yes"), ("false", "No")]
            return forms.ChoiceField(label=label, choices=choices, required=False, initial=value or "")
        widget = DateInput if data_field.type == FieldType.DATE else None
        return forms.CharField(
            label=label,
            required=False,  # the service decides, as for the API: a required item cannot be emptied
            initial=value,
            widget=widget,
            help_text=f"{data_field.get_type_display()}{', required' if data_field.required else ''}",
        )

    def _post_clean(self) -> None:
        pass  # the service validates (see clean)

    def service_data(self) -> dict[str, Any]:
        """The changed fields, shaped as the API's PATCH body is for the service."""
        data: dict[str, Any] = {}
        claimant: dict[str, Any] = {}
        items: list[tuple[str, dict[str, Any]]] = []
        for name in self.changed_data:
            if name == "free_time":
                if self.cleaned_data.get(name):
                    data["appointment_at"] = datetime.fromisoformat(self.cleaned_data[name])
                continue
            value = self.cleaned_data.get(name)
            value = None if value == "" else value
            if name.startswith("claimant_"):
                claimant[name.removeprefix("claimant_")] = value
            elif name.startswith("data_"):
                key = name.removeprefix("data_")
                items.append((key, {"id": uuid.UUID(key), "value": value}))
            elif name in ("department", "agent"):
                data[f"{name}_id"] = value.pk if value is not None else None
            else:
                data[name] = value
        if items:
            claimant["data"] = items
        if claimant:
            data["claimant"] = claimant
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not self.changed_data:
            return cleaned
        try:
            # Inside the admin view's transaction: a later failure there undoes this too.
            updated = appointment_update(appointment=self.instance, data=self.service_data(), actor=self.actor)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                name = self._form_field(key)
                self.add_error(name, in_form_words(errors, key, label_of(self, name, key)))
        else:
            # The saved appointment, so the success message and "Recent actions" name it as it is now.
            self.instance = updated
        return cleaned

    def _form_field(self, key: str) -> str | None:
        def item(rest: str) -> str | None:
            name = f"data_{rest.split('.')[0]}"
            return name if name in self.fields else None

        return form_field_for(key, self.fields, {"department_id": "department", "agent_id": "agent"}, item)


def label_of(form: forms.BaseForm, name: str | None, key: str) -> str | None:
    """What the form calls the field a service error is about: its field's label (without what follows it in
    brackets, the zone of `Time (Europe/London)`), else, for an error shown at the form's top, the model's field as
    the form would name it (`department_id`: Department); None when neither names it."""
    if name is not None:
        return str(form[name].label).split(" (")[0]
    try:
        field = Appointment._meta.get_field(key.removesuffix("_id"))
    except FieldDoesNotExist:
        return None
    return field_label(field) if isinstance(field, models.Field) else None


def in_form_words(errors: list[str], key: str, label: str | None) -> list[str]:
    """The service's messages (the API's, written in Laravel's words about the request's fields: `The
    claimant.phone_number field is not a valid phone number`, `The appointment at field must be a date after now`)
    with the form's label where they name the field: `The “Phone number” field is not a valid phone number`
    (issue 24.5). A data item's message names its field after the path (`claimant.data.<id>.value field (Case
    number)`): the label says it once."""
    if label is None:
        return errors
    spoken = {key, key.replace("_", " ")}  # `appointment_at` is `appointment at` in Laravel's words
    names = "|".join(re.escape(name) for name in sorted(spoken, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.])(?:{names})(?![\w.])( field)?(?: \([^)]*\))?")
    return [pattern.sub(lambda found: f"“{label}”{found.group(1) or ''}", message) for message in errors]


def form_field_for(
    key: str, fields: Mapping[str, Any], renamed: Mapping[str, str | None], data_item: Callable[[str], str | None]
) -> str | None:
    """The form field a service error (keyed by the API's dot path) belongs on; None: the form's top.
    `renamed` maps request names the form calls otherwise; `data_item` finds a claimant data item's field from
    what follows `claimant.data.`."""
    if key in renamed:
        return renamed[key]
    if key.startswith("claimant.data."):
        return data_item(key.split(".", 2)[2])
    if key.startswith("claimant."):
        name = f"claimant_{key.removeprefix('claimant.')}"
        return name if name in fields else None
    return key if key in fields else None


class ClaimantDataFieldForm(forms.ModelForm):
    """A department's data field on the department's page; a change to an existing field is checked by the
    service against the values it holds (a type they do not fit is refused here, as a form error)."""

    class Meta:
        model = ClaimantDataField
        fields = ["position", "name", "type", "required"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None or self.errors:
            return cleaned
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        _converted, errors = claimant_data_field_plan_change(data_field=self.instance, changes=changes)
        for name, messages in errors.items():
            self.add_error(name, messages)
        return cleaned


class CancelForm(forms.Form):
    cancellation_reason = forms.CharField(
        label="Reason", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
