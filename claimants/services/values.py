"""The values a claimant's rules accept: phone numbers in E.164, and data values in their canonical text, typed
by their field; and how the rules' errors are collected."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from claimants.models import FieldType
from config.api.fields import parse_date

Errors = dict[str, list[str]]


def merge_errors(*parts: Errors) -> Errors:
    """Errors of several checks in one mapping, keys in the order the checks ran."""
    merged: Errors = {}
    for part in parts:
        for key, messages in part.items():
            merged.setdefault(key, []).extend(messages)
    return merged


MAX_VALUE_LENGTH = 2000
# No one living was born before 1900 (the oldest person ever recorded was born in 1875 and died in 1997): an
# earlier date of birth is a typing slip (0001-01-01, 1090 for 1990), refused before it becomes the answer the
# claimant's identity check expects.
EARLIEST_DATE_OF_BIRTH = date(1900, 1, 1)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def normalise_phone_number(raw: str) -> str:
    """The number in E.164 (`+447700900123`); numbers without a `+` are read in PHONE_DEFAULT_REGION."""
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("must be a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("must be a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Numbers are bounded before anything converts them: an exponent like 1e9999999 would otherwise make int() or
# format() work for minutes and write a million digits. Within these bounds every canonical form is short.
MAX_NUMBER_DIGITS = 30  # before the decimal point, and after it
# The longest text of a number read: 30 digits before the point and 30 after, with room for zeros that do not count
# (`000.5`, `1.500`), a sign and an exponent. Longer text is refused as too long, never rounded.
_MAX_NUMBER_TEXT = 100


def _canonical_number(raw: Any) -> str:
    """A number's canonical text, exact: from a string, a JSON integer, or a JSON number with a fraction or an
    exponent (a Decimal as written, config.api.parsers). A float (not from JSON) is read as its shortest repr."""
    if isinstance(raw, bool):
        raise ValueError("must be a number")
    if isinstance(raw, int):
        raw = str(raw) if abs(raw) < 10**MAX_NUMBER_DIGITS else "1e999"  # never str() a huge int
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError("must be a number")
        raw = repr(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError("must be a number")
        raw = str(raw)  # the same digits and exponent, so a JSON number obeys exactly the rule its string would
    if not isinstance(raw, str) or not _NUMBER.match(raw):
        raise ValueError("must be a number")
    too_long = ValueError(f"must be a number with at most {MAX_NUMBER_DIGITS} digits before and after the point")
    if len(raw) > _MAX_NUMBER_TEXT:
        raise too_long
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if number == 0:
        return "0"
    if not -MAX_NUMBER_DIGITS <= number.adjusted() < MAX_NUMBER_DIGITS:
        raise too_long
    with localcontext() as exact:
        exact.prec = 2 * _MAX_NUMBER_TEXT  # more digits than any accepted input has: exact, never rounded
        normal = number.normalize()
        exponent = normal.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_NUMBER_DIGITS:
            raise too_long
        if number == number.to_integral_value():
            return str(int(number))
        return format(normal, "f")


def clean_data_value(field_type: str, raw: Any) -> str | None:
    """A data value in its canonical text form, or None for empty; ValueError says what is wrong."""
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if raw is None:
        return None
    if isinstance(raw, Mapping | list):
        raise ValueError("must be a string, a number or a boolean")
    if field_type == FieldType.NUMBER:
        return _canonical_number(raw)
    if field_type == FieldType.BOOLEAN:
        text = str(raw).lower() if not isinstance(raw, bool) else ("true" if raw else "false")
        if isinstance(raw, float | Decimal) or text not in _TRUE | _FALSE:  # 1e0 is no boolean
            raise ValueError("must be true or false")
        return "true" if text in _TRUE else "false"
    if isinstance(raw, bool):
        raise ValueError("must be a string")
    text = str(raw)
    if "\x00" in text:
        raise ValueError("must not contain null characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError(f"must not be longer than {MAX_VALUE_LENGTH} characters")
    if field_type == FieldType.DATE:
        try:
            return parse_date(text).isoformat()
        except ValueError:
            raise ValueError("must be a date in the format YYYY-MM-DD") from None
    if field_type == FieldType.EMAIL:
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError("must be a valid email address") from None
    return text
