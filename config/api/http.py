"""HTTP helpers for the API views: strong ETags, If-Match / If-None-Match, the original's method override, a dry
run's parameter."""

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from config.api.errors import PreconditionFailed
from config.api.rendering import api_json

OVERRIDE_HEADER = "X-HTTP-Method-Override"


def representation_etag(data: Mapping[str, Any], text: str | None = None) -> str:
    """A strong ETag: a digest of the exact representation, so any visible change changes it. `text`: the
    representation's `api_json`, when the caller rendered it already."""
    body = api_json(data) if text is None else text
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:40] + '"'


def _etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_passes(header: str, etag: str) -> bool:
    """RFC 9110 strong comparison: `*` matches any current representation; weak tags never match."""
    tags = _etags(header)
    return "*" in tags or etag in tags


def if_match_precondition(header: str | None, current_etag: Callable[[Any], str]) -> Callable[[Any], None] | None:
    """A precondition for a service's locked row: 412 unless `If-Match` matches the row's current ETag.

    `current_etag` computes the ETag of the locked row, so the check and the write see the same version.
    None when the request sent no If-Match (it is optional).
    """
    if header is None:
        return None

    def check(locked: Any) -> None:
        if not if_match_passes(header, current_etag(locked)):
            raise PreconditionFailed()

    return check


def if_none_match_hits(header: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison for GET: `*` or any tag equal to the ETag, with or without `W/`."""
    if not header:
        return False
    tags = _etags(header)
    return "*" in tags or etag in [tag.removeprefix("W/") for tag in tags]


def requested_override(request: Request) -> str | None:
    """The method a POST asks to be treated as: `_method` in the query or the form, or the override header."""
    value = request.query_params.get("_method") or request.headers.get(OVERRIDE_HEADER)
    if not value and request.content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        data = request.data
        value = data.get("_method") if isinstance(data, Mapping) else None
    return value.strip().upper() if isinstance(value, str) else None


def apply_method_override(request: Request) -> bool:
    """Laravel's method override: honoured on POST only, and only for PATCH, so a safe method never writes.
    Returns whether the request is now a PATCH."""
    if request.method == "POST" and requested_override(request) == "PATCH":
        request.method = "PATCH"
        request._request.method = "PATCH"
        return True
    return False


def request_body(request: Request) -> Mapping[str, Any]:
    """The parsed body as a mapping; a JSON array or scalar is a malformed body (400)."""
    if not isinstance(request.data, Mapping):
        raise exceptions.ParseError("The request body must be a JSON object or a form.")
    return request.data


# `?dry_run=true` (issue 20.4): the change checked and answered as it would be, and not made. Its values are the
# booleans a form or the list's filters take; anything else (repeated, empty, `yes`) is refused, never read as false.
DRY_RUN = "dry_run"
DRY_RUN_HEADER = "Dry-Run"
_DRY_RUN_VALUES = {"true": True, "1": True, "false": False, "0": False}


def names_dry_run(request: Request) -> bool:
    """Whether the request names `dry_run` at all, whatever its value: such a request moves no token's last use
    (config.api.authentication): a dry run writes nothing, and a refused value changes nothing."""
    return DRY_RUN in request.query_params


def dry_run_requested(request: Request) -> bool:
    """Whether the request asks for a dry run; a 422 on `dry_run` for a value that is not a boolean."""
    values = request.query_params.getlist(DRY_RUN)
    if not values:
        return False
    if len(values) == 1 and values[0] in _DRY_RUN_VALUES:
        return _DRY_RUN_VALUES[values[0]]
    raise exceptions.ValidationError({DRY_RUN: ["The dry run field must be true or false."]})
