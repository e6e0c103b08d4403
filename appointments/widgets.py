"""The back office's date and time inputs, declared once for every form that has one (the change page, the
booking form, data items of type date), and the choice of a repeated hour's readings (issue 24.5).

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

from appointments.local_time import local_moment, local_readings

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


class ReadingSelect(forms.RadioSelect):
    """The readings of a wall-clock time the clocks repeat, as radio buttons (`01:30 BST`, `01:30 GMT`); `legend` and
    `help` say which time and why where the choice is a part of another input (SplitDateTimeInput)."""

    legend = ""
    help = ""


class ReadingField(forms.TypedChoiceField):
    """Which reading of a wall-clock time the clocks repeat: 01:30 the night they go back in London is offered as
    `01:30 BST` and `01:30 GMT` to choose from (issue 24.5), never guessed; the moment is `local_moment`'s with it.

    The one declaration of that choice for every back-office form that takes a local time: the booking form's own
    `reading` field, the change form's third input of its time (LocalDateTimeField). A time that happens once has no
    choice, and a reading posted for it (left from another time) is ignored, as local_moment ignores it."""

    widget = ReadingSelect

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=(), coerce=int, empty_value=None, required=False, **kwargs)

    def offer(self, day: date | None, clock: time | None, zone: ZoneInfo) -> bool:
        """Offers the readings of `clock` on `day` in `zone`: both the night it comes twice (True), none otherwise."""
        readings = local_readings(day, clock, zone) if day and clock else []
        self.choices = list(enumerate(readings))
        if clock is not None and readings:
            self.label = self.widget.legend = f"Which {clock:%H:%M}"
            self.help_text = self.widget.help = f"The clocks go back that night: {clock:%H:%M} happens twice."
        return bool(readings)

    def valid_value(self, value: Any) -> bool:
        return str(value) in ("0", "1")  # local_moment's readings: the first, the second


class SplitDateTimeInput(forms.MultiWidget):
    """A moment as a date and a time, each input with a label of its own (one label for the pair names neither
    input: axe's critical `label` finding, issue 17.14), and, the night the clocks repeat that time, the choice of
    its readings (ReadingField's, in a group of its own; nothing is shown for a time that happens once)."""

    template_name = "appointments/widgets/split_datetime.html"
    labels = ("Date", "Time")
    supports_microseconds = False

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__((DateInput(attrs), TimeInput(attrs), ReadingSelect(attrs)))

    def decompress(self, value: Any) -> list[Any]:
        """The date and time on the current zone's clock, and which reading of that time it is when it comes twice
        (0: the first, 1: the second; None: it happens once)."""
        if not value:
            return [None, None, None]
        zone = timezone.get_current_timezone()
        assert isinstance(zone, ZoneInfo)
        local = value.astimezone(zone)
        day, clock = local.date(), local.time()
        return [day, clock, local.fold if local_readings(day, clock, zone) else None]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        date_input, time_input, reading = context["widget"]["subwidgets"]
        for subwidget, label in ((date_input, self.labels[0]), (time_input, self.labels[1])):
            subwidget["label"] = label
        chooser = self.widgets[2]
        assert isinstance(chooser, ReadingSelect)
        reading["legend"], reading["help"] = chooser.legend, chooser.help
        return context


class LocalDateTimeField(forms.SplitDateTimeField):
    """A moment entered as a date and a time in the current time zone (the view sets the department's).

    A wall-clock time the clocks skip is refused; one they repeat is offered in both its readings to choose from
    (`offer_readings`, as the booking form offers them: ReadingField), never guessed. The stored time shown and
    posted back unchanged is kept, and the field has changed only when the moment it reads has."""

    widget = SplitDateTimeInput
    kept: datetime | None = None  # the stored moment, set by the form

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(require_all_fields=False, **kwargs)
        self.fields = (*self.fields, ReadingField())
        for part in self.fields:
            part.required = False  # compress says which part is missing

    def offer_readings(self, value: Any, zone: ZoneInfo) -> None:
        """Offers the readings of the time in `value` (the stored moment, or the date and time as posted) when the
        clocks repeat it that day."""
        if isinstance(value, datetime):
            local = value.astimezone(zone)
            day, clock = local.date(), local.time()
        else:
            try:
                day = self.fields[0].clean(value[0] if value else None)
                clock = self.fields[1].clean(value[1] if value else None)
            except ValidationError:
                return
        reading = self.fields[2]
        assert isinstance(reading, ReadingField)
        assert isinstance(self.widget, SplitDateTimeInput)
        if reading.offer(day, clock, zone):
            self.widget.widgets[2] = reading.widget

    def compress(self, data_list: tuple[Any, ...] | None) -> datetime | None:
        if not data_list:
            return None
        day, clock, reading = (*data_list, None, None)[:3]
        if day in self.empty_values:
            raise ValidationError(self.error_messages["invalid_date"], code="invalid_date")
        if clock in self.empty_values:
            raise ValidationError(self.error_messages["invalid_time"], code="invalid_time")
        zone = timezone.get_current_timezone()
        assert isinstance(zone, ZoneInfo)
        if self.kept is not None and reading is None:
            kept = self.kept.astimezone(zone)
            if (kept.date(), kept.time().replace(microsecond=0)) == (day, clock):
                return self.kept
        return local_moment(day, clock, zone, reading)

    def has_changed(self, initial: Any, data: Any) -> bool:
        """Changed when the moment read differs from the stored one (a reading chosen for the same date and time is a
        change; a stale reading for a time that happens once is not)."""
        if self.disabled:
            return False
        try:
            return bool(self.clean(data) != initial)
        except ValidationError:
            return True
