"""Parsers for what the original's clients send: JSON (depth-limited) and PHP-style bracket forms."""

import io
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import QueryDict
from django.utils.http import parse_header_parameters
from rest_framework import exceptions, parsers

_BRACKET_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_BRACKET_PART = re.compile(r"\[([^\[\]]*)\]")


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(f"The request body is nested more than {settings.API_MAX_BODY_DEPTH} levels deep.")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, stopping as soon as the limit is passed."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # Python's json reads NaN and Infinity; RFC 8259 has no such number


class JSONParser(parsers.JSONParser):
    """JSON bodies, with a depth limit; deep nesting would otherwise end in a RecursionError (a 500).

    A number with a fraction or an exponent is read as a Decimal, exactly as written: a binary float would lose
    digits silently (`0.30000000000000004441`, `1e-999999` read as 0). Integers stay `int`. Every field that
    takes a number says what it accepts (config.api.fields, claimants.services' number rule).
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            raw = stream.read()
            if not raw.strip():
                return {}
            data = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_not_json)
        except RecursionError:
            raise _too_deep() from None
        except (ValueError, UnicodeDecodeError):
            raise exceptions.ParseError("The request body is not valid JSON.") from None
        if _depth(data, settings.API_MAX_BODY_DEPTH) > settings.API_MAX_BODY_DEPTH:
            raise _too_deep()
        return data


def is_index(key: Any) -> bool:
    """A list index as PHP forms write it: ASCII digits only (`str.isdigit` also accepts "¹", which int() refuses)."""
    return isinstance(key, str | int) and str(key).isascii() and str(key).isdigit()


def _as_lists(node: Any) -> Any:
    """Turn `{"0": a, "1": b}` into `[a, b]` when the keys are exactly 0..n-1, as PHP arrays read."""
    if not isinstance(node, dict):
        return node
    converted = {key: _as_lists(value) for key, value in node.items()}
    indexes = sorted(int(key) for key in converted if is_index(key))
    if converted and indexes == list(range(len(converted))):
        return [converted[str(index)] for index in indexes]
    return converted


def _place(root: dict[str, Any], path: list[str], value: str | None) -> None:
    node = root
    for depth, part in enumerate(path[:-1]):
        child = node.setdefault(part if part else str(len(node)), {})
        if not isinstance(child, dict):
            raise exceptions.ParseError(f"The form key {'.'.join(path[: depth + 1])} is both a value and a list.")
        node = child
    last = path[-1] if path[-1] else str(len(node))
    if isinstance(node.get(last), dict):
        raise exceptions.ParseError(f"The form key {'.'.join(path)} is both a value and a list.")
    node[last] = value


def nest_form_data(form: QueryDict) -> dict[str, Any]:
    """Read PHP-style bracket keys (`claimant[data][0][id]`) into nested dicts and lists.

    Form values are strings; an empty string means null (the contract). A repeated key keeps its last
    value, as PHP does. A key that is both a value and a container is a malformed body.
    """
    limit = settings.API_MAX_BODY_DEPTH
    root: dict[str, Any] = {}
    for key, values in form.lists():
        if key.count("[") >= limit:
            raise _too_deep()
        match = _BRACKET_KEY.match(key)
        path = [match.group(1), *_BRACKET_PART.findall(match.group(2))] if match else [key]
        # `tags[]=a&tags[]=b` appends each value; any other repeated key keeps its last value.
        for value in values if path[-1] == "" else values[-1:]:
            _place(root, path, None if value == "" else value)
    # The body itself stays an object even when its keys are 0, 1, ...: only nested values become lists.
    return {key: _as_lists(value) for key, value in root.items()}


_NOT_UTF8 = "The request body is not valid UTF-8 text."


class BracketFormParser(parsers.FormParser):
    """`application/x-www-form-urlencoded` with PHP bracket keys; keys and values must be UTF-8 (Django would
    quietly replace bad bytes with U+FFFD and store that)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise exceptions.ParseError(_NOT_UTF8) from None
        return nest_form_data(QueryDict(raw, encoding="utf-8"))


class BracketMultiPartParser(parsers.MultiPartParser):
    """`multipart/form-data` with PHP bracket keys; files are not part of this API and are dropped.

    The body must be whole: Django's parser takes a body cut short, or closed by another boundary, as complete,
    so the part it was reading would be applied. Such a body is a 400 here, as is a part that is not UTF-8.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""  # bounded by API_MAX_BODY_BYTES (ApiGuardMiddleware)
        _content_type, params = parse_header_parameters(media_type or "")
        boundary = params.get("boundary", "").encode("latin-1", "replace")
        empty = raw.startswith(b"--" + boundary + b"--")  # a form with no fields at all
        if (
            not boundary
            or not raw.startswith(b"--" + boundary)
            or (b"\r\n--" + boundary + b"--" not in raw and not empty)
        ):
            raise exceptions.ParseError("The multipart body is incomplete or not delimited by its boundary.")
        parsed = super().parse(io.BytesIO(raw), media_type, parser_context)
        # Django decodes each part leniently (bad bytes become U+FFFD): such a part was not UTF-8 text.
        if any("\ufffd" in key or any("\ufffd" in value for value in values) for key, values in parsed.data.lists()):
            raise exceptions.ParseError(_NOT_UTF8)
        return nest_form_data(parsed.data)
