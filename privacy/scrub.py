"""Taking a claimant's values out of a copy: a text, or a JSON document (an event's payload, a stored answer, a
task's arguments), leaving the rest as it was (issue 21.2).

`Needles` are the claimant's values in every form the service writes them: the name, the email, the phone number
in E.164 and in national form, the date of birth as ISO and as a person writes it, the data values, the
participants' names (not the agent's: staff), and the link tokens, each mapped to its replacement (a token to its
new secret, anything else to nothing). A text loses each occurrence; a JSON string equal to a value becomes null,
one that contains it loses it; and a representation's claimant (an object under a `claimant` key with a `name`)
has its personal keys and its data items' values set to null, whatever they hold.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import phonenumbers

# Shorter values are matched only as a whole JSON string: inside a text, "42" or "Li" would take out other words.
SHORTEST_INSIDE = 4
# The representation's claimant keys that hold their personal data, and a data item's.
CLAIMANT_KEYS = ("name", "phone_number", "email", "date_of_birth")
ITEM_KEY = "value"


@dataclass
class Needles:
    """The values to take out, each with its replacement ("" for nothing, a token's new secret)."""

    replacements: dict[str, str] = field(default_factory=dict)
    # The values that say who the person is (not a data value such as a date or "yes"): the only ones looked for in
    # tables with no path to the appointment, where a common value would take out other appointments' words.
    identifying: set[str] = field(default_factory=set)

    def add(self, value: object, replacement: str = "", *, identifying: bool = True) -> None:
        text = str(value).strip() if value is not None else ""
        if text:
            self.replacements.setdefault(text, replacement)
            if identifying:
                self.identifying.add(text)

    def only_identifying(self) -> Needles:
        kept = {key: value for key, value in self.replacements.items() if key in self.identifying}
        return Needles(kept, set(kept))

    def add_phone(self, number: str | None) -> None:
        if not number:
            return
        self.add(number)
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException:
            return
        for form in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL):
            written = phonenumbers.format_number(parsed, form)
            self.add(written)
            self.add(re.sub(r"\D", "", written))
        self.add(number.lstrip("+"))

    def add_date(self, born: date | None) -> None:
        if born is not None:
            for written in (born.isoformat(), f"{born:%d/%m/%Y}", f"{born.day} {born:%B %Y}", f"{born:%d %B %Y}"):
                self.add(written)

    def __bool__(self) -> bool:
        return bool(self.replacements)

    @property
    def searchable(self) -> list[str]:
        """The values long enough to be looked for inside a text (a query's `icontains`)."""
        return [value for value in self.replacements if len(value) >= SHORTEST_INSIDE]

    def _pattern(self) -> re.Pattern[str] | None:
        values = sorted(self.searchable, key=len, reverse=True)
        return re.compile("|".join(re.escape(value) for value in values), re.IGNORECASE) if values else None

    def text(self, value: str) -> str:
        pattern = self._pattern()
        if pattern is None:
            return value
        lowered = {key.casefold(): replacement for key, replacement in self.replacements.items()}
        return pattern.sub(lambda match: lowered.get(match.group(0).casefold(), ""), value)

    def whole(self, value: str) -> str | None:
        """A JSON string: its replacement when it is a value (null for nothing), else the text scrubbed."""
        for key, replacement in self.replacements.items():
            if value.strip().casefold() == key.casefold():
                return replacement or None
        return self.text(value)


def scrub_json(document: Any, needles: Needles) -> Any:
    """The document without the claimant's values (a new one; the argument is left as it was)."""
    if isinstance(document, dict):
        out = {key: scrub_json(value, needles) for key, value in document.items()}
        claimant = out.get("claimant")
        if isinstance(claimant, dict) and "name" in claimant:
            out["claimant"] = _claimant_emptied(claimant)
        return out
    if isinstance(document, list):
        return [scrub_json(value, needles) for value in document]
    if isinstance(document, str):
        return needles.whole(document)
    return document


def _claimant_emptied(claimant: dict[str, Any]) -> dict[str, Any]:
    emptied = {key: (None if key in CLAIMANT_KEYS else value) for key, value in claimant.items()}
    items = emptied.get("data")
    if isinstance(items, list):
        emptied["data"] = [_item_emptied(item) for item in items]
    return emptied


def _item_emptied(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {key: (None if key == ITEM_KEY else value) for key, value in item.items()}


def scrub_json_text(text: str, needles: Needles) -> str:
    """A JSON document kept as text (an event's payload): scrubbed as JSON, written back compactly as the API
    renders (no spaces), or as a text when it is not JSON."""
    try:
        document = json.loads(text)
    except ValueError:
        return needles.text(text)
    return json.dumps(scrub_json(document, needles), ensure_ascii=False, separators=(",", ":"))
