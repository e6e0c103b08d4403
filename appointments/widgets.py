"""The back office's date and time inputs, declared once for every form that has one (the change page, the
booking form, data items of type date).

The browser's own inputs (`<input type="date">`, `<input type="time">`) read and post one format whatever the
language: `YYYY-MM-DD` and `HH:MM` (`HH:MM:SS` with seconds). Django formats a widget's value in the language's
format (`17/03/1984` in en-GB), which such an input cannot read: it shows the field blank and posts it empty, and a
form saved unchanged erased the date (issue 17.1). So these widgets write the browser's format, always.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.local_time import local_moment

DATE_FORMAT = "%Y-%m-%d"  # HTML's valid date string
TIME_FORMAT = "%H:%M"  # HTML's valid time string, seconds only where there are some
TIME_WITH_SECONDS_FORMAT = "%H:%M:%S"


class DateInput(forms.DateInput):
    """A date picked in the browser's own calendar, its value written as the browser reads it."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATE_FORMAT)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, date):  # not localised: the input reads only YYYY-MM-DD
            return value.strftime(DATE_FORMAT)
        return super().format_value(value)  # a string, as posted, comes back as it was


class TimeInput(forms.TimeInput):
    """A time of day in the browser's own input; a time with seconds keeps them (and may be stepped by them), so
    saving it unchanged does not round it."""

    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=TIME_FORMAT)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, time | datetime):
            return value.strftime(TIME_WITH_SECONDS_FORMAT if value.second else TIME_FORMAT)
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if isinstance(value, time | datetime) and value.second:
            context["widget"]["attrs"]["step"] = 1  # else the browser offers whole minutes only
        return context


class SplitDateTimeInput(forms.SplitDateTimeWidget):
    """A moment as a date and a time, each input with a label of its own (one label for the pair names neither
    input: axe's critical `label` finding, issue 17.14)."""

    template_name = "appointments/widgets/split_datetime.html"
    labels = ("Date", "Time")

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        forms.MultiWidget.__init__(self, (DateInput(attrs), TimeInput(attrs)))

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        for subwidget, label in zip(context["widget"]["subwidgets"], self.labels, strict=True):
            subwidget["label"] = label
        return context


class LocalDateTimeField(forms.SplitDateTimeField):
    """A moment entered as a date and a time in the current time zone (the view sets the department's).

    A wall-clock time the clocks skip or repeat is refused rather than guessed, as the booking form refuses it;
    but the stored time shown and posted back unchanged is kept (01:30 GMT on the night 01:30 comes twice), else an
    appointment at such a time could not be saved at all."""

    widget = SplitDateTimeInput
    kept: datetime | None = None  # the stored moment, set by the form

    def compress(self, data_list: tuple[date, time] | None) -> datetime | None:
        if not data_list:
            return None
        day, clock = data_list
        if day in self.empty_values:
            raise ValidationError(self.error_messages["invalid_date"], code="invalid_date")
        if clock in self.empty_values:
            raise ValidationError(self.error_messages["invalid_time"], code="invalid_time")
        zone = timezone.get_current_timezone()
        assert isinstance(zone, ZoneInfo)
        if self.kept is not None:
            kept = self.kept.astimezone(zone)
            if (kept.date(), kept.time().replace(microsecond=0)) == (day, clock):
                return self.kept
        return local_moment(day, clock, zone)
