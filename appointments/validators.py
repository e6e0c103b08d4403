"""What some of the appointments' and departments' columns accept, beside what their types say: a department's
zone and reminder hours, and the post-call redirects' URLs. Migrations name the first two by their old path,
`appointments.models.<name>`, which re-exports them."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_REMINDER_HOURS = 14 * 24
DEFAULT_TIME_ZONE = "Europe/London"


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones()) if "/" in name or name == "UTC"]


def reminder_hours(value: str) -> list[int]:
    """`"24, 1"` as [24, 1]: each a whole number of hours from 1 to two weeks, largest first, no repeats."""
    hours: set[int] = set()
    for part in (piece.strip() for piece in value.split(",")):
        if not part:
            continue
        if not re.fullmatch(r"[0-9]{1,4}", part) or not 1 <= int(part) <= MAX_REMINDER_HOURS:
            raise ValueError(f"{part!r} is not a whole number of hours from 1 to {MAX_REMINDER_HOURS}.")
        hours.add(int(part))
    return sorted(hours, reverse=True)


def validate_reminder_hours(value: str) -> None:
    try:
        reminder_hours(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


# Post-call redirects are absolute http(s) URLs (the contract): one validator for the model, the API and the admin.
validate_http_url = URLValidator(schemes=["http", "https"], message="Enter a valid http(s) URL.")
