"""Scalar fields of the representation and of request bodies, as the original writes and reads them, and the
API's one format for the times and dates it reads (bodies and list filters alike)."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def milliseconds(value: datetime | None) -> str | None:
    """`2021-01-01T00:00:00.000Z`: how the contract writes an appointment's times, always in UTC."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def seconds(value: datetime) -> str:
    """`2021-01-30T08:30:00Z`: how the contract writes a meeting's dates (the seed's example), always in UTC."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The one format of a time the API reads, in a body or a list filter: RFC 3339's date-time, except that the seconds
# and the offset may be left out (no offset: UTC, as the original reads it), a space may stand for the `T` (the
# original's own form example), and an offset may leave out its colon (PHP's DATE_ISO8601 writes `+0100`). Nothing
# else of ISO 8601 (a date alone, the basic format, week or ordinal dates); an offset of at most ±15:59, as
# PostgreSQL holds one. ASCII digits only; written for both Python's `re` and the schema's ECMA-262 patterns.
TIME_PATTERN = "".join(
    [
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?",
        r"([Zz]|[+-](0[0-9]|1[0-5]):?[0-5][0-9])?$",
    ]
)
TIME_FORMAT = "YYYY-MM-DDThh:mm:ss, with an optional fraction of a second and an offset up to ±15:59 (none: UTC)"
TIME_SCHEMA = {"type": "string", "format": "date-time", "pattern": TIME_PATTERN}
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATE_SCHEMA = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
_TIME = re.compile(TIME_PATTERN)
_DATE = re.compile(DATE_PATTERN)


def parse_time(text: str) -> datetime:
    """A time in the API's one format (TIME_PATTERN), in UTC; ValueError for anything else, a time that does not
    exist (February 30th, a leap second) or one whose UTC leaves the calendar."""
    if not _TIME.fullmatch(text):
        raise ValueError(text)
    day, clock = text[:10], text[11:]
    offset = ""
    if clock[-1] in "Zz":
        clock, offset = clock[:-1], "+00:00"
    elif "+" in clock or "-" in clock:
        cut = max(clock.rfind("+"), clock.rfind("-"))
        clock, offset = clock[:cut], clock[cut:]
        offset = offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
    whole, _, fraction = clock.partition(".")
    clock = f"{whole}.{fraction[:6].ljust(6, '0')}" if fraction else whole  # finer than a microsecond: cut
    parsed = datetime.fromisoformat(f"{day}T{clock}{offset}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(text) from None


def parse_date(text: str) -> date:
    """A date written YYYY-MM-DD (ASCII digits), and nothing else of ISO 8601; ValueError otherwise."""
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


@extend_schema_field(TIME_SCHEMA)
class TimeField(serializers.DateTimeField):
    """A time in a request body, in the API's one format (TIME_PATTERN), read in UTC."""

    default_error_messages = {"invalid": f"This field must be a time written {TIME_FORMAT}."}

    def to_internal_value(self, value: Any) -> datetime:
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return parse_time(value)
        except ValueError:
            self.fail("invalid")


@extend_schema_field(DATE_SCHEMA)
class DateField(serializers.DateField):
    """A date in a request body, written YYYY-MM-DD."""

    default_error_messages = {"invalid": "This field must be a date written YYYY-MM-DD."}

    def to_internal_value(self, value: Any) -> date:
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return parse_date(value)
        except ValueError:
            self.fail("invalid")


class MillisecondsDateTimeField(serializers.DateTimeField):
    """Appointment timestamps are written `2021-01-01T00:00:00.000Z`, always in UTC."""

    def to_representation(self, value: datetime) -> str | None:  # type: ignore[override]
        return milliseconds(value)


class SecondsDateTimeField(serializers.DateTimeField):
    """Meeting dates are written `2021-01-30T08:30:00Z` (the seed's example), always in UTC."""

    def to_representation(self, value: datetime) -> str:
        return seconds(value)


class StrictBooleanField(serializers.BooleanField):
    """Booleans as the original reads them: JSON true/false, 1/0, and the strings "true"/"false"/"1"/"0".

    Not 1.0 or 0e0 (equal to 1 and 0 in Python's sets): the original's `boolean` rule matches strictly."""

    TRUE_VALUES = {True, "1", "true", "True", "TRUE"}
    FALSE_VALUES = {False, "0", "false", "False", "FALSE"}
    NULL_VALUES: set[Any] = set()

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, Decimal | float):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


# A JSON integer field's bound on a number's magnitude before it is converted: past 10**18 no integer field of
# the API is valid anyway, and int() of 1e999999 would build a million digits.
_MAX_INTEGER_DIGITS = 18


class IntegerField(serializers.IntegerField):
    """An integer as the original's `integer` rule reads a JSON number, and as JSON Schema's `integer` type does:
    its value, whatever the notation (60, 60.0 and 6e1 are 60); a fraction is refused. Strings as DRF reads them
    (forms send "60")."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, Decimal):
            if not data.is_finite() or data.adjusted() > _MAX_INTEGER_DIGITS or data != data.to_integral_value():
                self.fail("invalid")
            data = int(data)
        return super().to_internal_value(data)


class NullableUrlField(serializers.CharField):
    """A URL or null; an empty string (a form's null) is null. Which URLs are valid is the caller's validator."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=2000, allow_null=True, allow_blank=True, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if isinstance(data, str) and data.strip() == "":
            return None
        return super().run_validation(data)


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}], "nullable": True})
class ScalarField(serializers.Field):
    """A string, number or boolean as a client sends it; what it must be is checked by the service."""

    default_error_messages = {"invalid": "Must be a string, a number, a boolean or null."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str | int | float | Decimal | bool):  # JSON fractions are Decimals (parsers.py)
            return data
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value
