"""Booking in the back office (a claimant who phoned in): the same service as the API's create, the same errors,
shown on the form; the time is entered in the department's zone: a time the clocks skip is refused, and one they repeat
is offered in both its readings to choose from, never guessed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.forms import (
    FREE_TIMES_OFFERED,
    FREE_TIMES_WITHIN,
    form_field_for,
    in_form_words,
    label_of,
    staff_name,
)
from appointments.local_time import local_label, local_moment
from appointments.models import MAX_DURATION, MIN_DURATION, Appointment, Department
from appointments.services import appointment_create
from appointments.slots import next_free_times, pick_agent, rules_of
from appointments.widgets import DateInput, ReadingField, TimeInput
from claimants.models import ClaimantDataField, FieldType
from config.actors import Actor

SHOW_FREE_TIMES = "show_free_times"  # the submit that shows the form again with the free times of the agent chosen


class BookingForm(forms.Form):
    """Issue 23.4: the form offers the next free times of the agent chosen (of any agent, by the round robin, when
    none is), for the length asked, from the one reader of free times (appointments.slots); one chosen fills the
    date, time and agent. "Show free times" (SHOW_FREE_TIMES) shows them again for another agent or length."""

    actor: Actor = None
    department: Department

    agent = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    any_agent = forms.BooleanField(
        label="Any free agent", required=False, help_text="With no agent chosen: the round robin's first free agent."
    )
    duration_in_minutes = forms.IntegerField(label="Length (minutes)", min_value=MIN_DURATION, max_value=MAX_DURATION)
    free_time = forms.ChoiceField(
        label="Free time",
        required=False,
        error_messages={"invalid_choice": "That time is no longer free: choose another."},
    )
    date = forms.DateField(widget=DateInput)
    time = forms.TimeField(widget=TimeInput)
    claimant_name = forms.CharField(label="Claimant's name", max_length=255)
    claimant_phone_number = forms.CharField(label="Phone number", max_length=40, required=False)
    claimant_email = forms.CharField(label="Email", max_length=254, required=False)
    claimant_date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput)
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
        self.fields["duration_in_minutes"].initial = rules_of(department).slot_minutes
        self._offer_free_times()
        self._offer_readings()
        self.data_fields = list(ClaimantDataField.objects.filter(department=department).order_by("position", "name"))
        for field in self.data_fields:
            label = f"{field.name}{' (required)' if field.required else ''}"
            widget = DateInput if field.type == FieldType.DATE else None
            self.fields[f"data_{field.pk}"] = forms.CharField(label=label, required=False, widget=widget)

    def _asked(self, name: str) -> Any:
        """What the form was given for a field (posted, else its initial value), uncleaned."""
        if self.is_bound:
            return self.data.get(name)
        return self.initial.get(name, self.fields[name].initial)

    def _offer_free_times(self) -> None:
        """The next free times of the agent asked for (any agent's when none is) for the length asked, each with its
        agent, as `<start>|<agent id>` ("" for a department whose agents have no hours of their own)."""
        field = self.fields["free_time"]
        assert isinstance(field, forms.ChoiceField)
        agent_field = self.fields["agent"]
        assert isinstance(agent_field, forms.ModelChoiceField)
        try:
            duration = self.fields["duration_in_minutes"].clean(self._asked("duration_in_minutes"))
            agent = agent_field.clean(self._asked("agent"))
        except ValidationError:
            field.choices = [("", "Choose an agent and a length, then show their free times")]
            return
        now = timezone.now()
        found = next_free_times(
            department=self.department,
            after=now,
            duration=duration,
            now=now,
            agent_id=agent.pk if agent is not None else None,
            within=FREE_TIMES_WITHIN,
            count=FREE_TIMES_OFFERED,
        )
        names = {user.pk: staff_name(user) for user in agent_field.queryset or ()} if agent is None else {}
        choices = []
        for free in found:
            label = local_label(free.start, self.zone)
            if agent is None and free.agent_id is not None:
                label = f"{label}, {names.get(free.agent_id, free.agent_id)}"
            choices.append((f"{free.start.isoformat()}|{free.agent_id or ''}", label))
        whose = f"{staff_name(agent)}'s" if agent is not None else "any agent's"
        field.choices = [("", f"Choose one of {whose} next free times" if choices else "No free time soon"), *choices]
        field.help_text = (  # "Dana Reid's", as written: str.capitalize() would lower the rest ("Dana reid's")
            f"{whose[:1].upper()}{whose[1:]} working hours, clear of their appointments and buffers, for the length "
            "above; one chosen fills the date, time and agent. Another agent or length: Show free times."
        )
        if self.is_bound and self.data.get("free_time"):
            for name in ("date", "time"):
                self.fields[name].required = False

    def _offer_readings(self) -> None:
        """A time the clocks repeat that day (01:30 the night they go back) is offered in both its readings, `01:30
        BST` and `01:30 GMT`, to choose from (issue 24.5), right after the time; a time that happens once has none."""
        try:
            day = self.fields["date"].clean(self.data.get("date"))
            clock = self.fields["time"].clean(self.data.get("time"))
        except ValidationError:
            return
        reading = ReadingField()
        if not reading.offer(day, clock, self.zone):
            return
        fields = list(self.fields.items())
        at = [name for name, _field in fields].index("time") + 1
        self.fields = dict([*fields[:at], ("reading", reading), *fields[at:]])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        chosen: int | None = None
        if cleaned.get("free_time"):
            start, _bar, agent_id = cleaned["free_time"].partition("|")
            appointment_at = datetime.fromisoformat(start)
            chosen = int(agent_id) if agent_id else None
        else:
            try:
                appointment_at = local_moment(cleaned["date"], cleaned["time"], self.zone, cleaned.get("reading"))
            except ValidationError as exc:
                self.add_error("reading" if "reading" in self.fields else "time", exc)
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
        if chosen is not None:  # the free time's agent: the one asked for, or the round robin's
            options["agent_id"] = chosen
        elif cleaned.get("free_time"):
            pass  # a free time of the department's own hours: nobody's
        elif cleaned.get("agent") is not None:
            options["agent_id"] = cleaned["agent"].pk
        elif cleaned.get("any_agent"):  # issue 23.4: the round robin over the department's agents (slots.py)
            duration = cleaned["duration_in_minutes"]
            free = pick_agent(department=self.department, start=appointment_at, duration=duration, now=timezone.now())
            if free is None:
                later = next_free_times(
                    department=self.department, after=appointment_at, duration=duration, now=timezone.now()
                )
                offer = "; ".join(local_label(time.start, self.zone) for time in later) or "none in the next two weeks"
                self.add_error("time", f"No agent is free then. Free times from then: {offer}.")
                return cleaned
            options["agent_id"] = free.agent_id
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
                target = self._form_field(key)
                self.add_error(target, in_form_words(errors, key, label_of(self, target, key)))
        return cleaned

    def _form_field(self, key: str) -> str | None:
        def item(wanted: str) -> str | None:
            return next((f"data_{f.pk}" for f in self.data_fields if wanted in (f.name, str(f.pk))), None)

        renamed = {"appointment_at": "time", "agent_id": "agent", "department_id": None}
        return form_field_for(key, self.fields, renamed, item)
