"""Scalar fields of the representation and of request bodies, as the original writes and reads them."""

from datetime import UTC, datetime
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
