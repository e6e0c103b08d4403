"""Back-office forms for appointments: the change page (appointment, claimant and data items in one
service call) and the cancel action's reason."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from appointments.features import FEATURE_LABELS
from appointments.models import TRANSITIONS, WRITABLE_FIELDS, Appointment, Department, Status
from appointments.selectors import claimant_data_items
from appointments.services import appointment_update
from appointments.widgets import DateInput, LocalDateTimeField
from claimants.models import CLAIMANT_WRITABLE_FIELDS, ClaimantDataField, FieldType
from claimants.services import claimant_data_field_plan_change
from config.actors import Actor

CLAIMANT_FIELDS = CLAIMANT_WRITABLE_FIELDS


def staff_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


class AppointmentAdminForm(forms.ModelForm):
    """The appointment with its claimant and the claimant's data items, saved in one service call.

    Model validation is left to the service (`_post_clean` is off): it knows the rules the model cannot (the
    lifecycle, rescheduling, data types), and it is what the API runs, so the messages are the same.
    """

    actor: Actor = None  # set per request by AppointmentAdmin.get_form

    appointment_at = LocalDateTimeField(label="Time")
    claimant_name = forms.CharField(label="Name", max_length=255)
    claimant_phone_number = forms.CharField(label="Phone number", max_length=40, required=False)
    claimant_email = forms.CharField(label="Email", max_length=254, required=False)
    claimant_date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput)
    # Plain text: the service validates redirect URLs as the API does (absolute http(s)), never guessing a scheme.
    custom_user_post_call_redirect_url = forms.CharField(max_length=2000, required=False)
    custom_agent_post_call_redirect_url = forms.CharField(max_length=2000, required=False)

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
        for name, label in FEATURE_LABELS.items():
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
            self.fields["appointment_at"].label = f"Time ({zone.replace('_', ' ')})"
            self.fields["appointment_at"].help_text = "In the department's time zone; the API shows it in UTC."
        claimant = self.instance.claimant
        for name in CLAIMANT_FIELDS:
            self.fields[f"claimant_{name}"].initial = getattr(claimant, name)
        self.data_items = {str(item.pk): item for item in claimant_data_items(self.instance)}
        for key, item in self.data_items.items():
            self.fields[f"data_{key}"] = self._data_field(item.field, item.value)

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
                self.add_error(self._form_field(key), errors)
        else:
            # The saved appointment, so the success message and "Recent actions" name it as it is now.
            self.instance = updated
        return cleaned

    def _form_field(self, key: str) -> str | None:
        def item(rest: str) -> str | None:
            name = f"data_{rest.split('.')[0]}"
            return name if name in self.fields else None

        return form_field_for(key, self.fields, {"department_id": "department", "agent_id": "agent"}, item)


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
