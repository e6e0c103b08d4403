"""The API's JSON written once per change (issue 26.2): the text DRF's JSONRenderer would write for a representation,
shared by the events that carry it, the answer's body and its ETag.

A change's service builds the appointment's representation once; its events each carried it rendered again by
JSONRenderer (three times for a cancel), the ETag rendered it once more and the answer's renderer once more. Here it
is rendered once (`api_json`), and the events and the answer are built around that text: JSON of an object is its
members' JSON joined, so `{"appointment":<text>,...}` is byte for byte what the renderer writes for the whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

# JSONRenderer's options as configured here (DRF's UNICODE_JSON, COMPACT_JSON and STRICT_JSON, all left at their
# defaults: tests/config/test_rendering.py compares the two for tricky text).
_OPTIONS: dict[str, Any] = {"cls": JSONEncoder, "ensure_ascii": False, "allow_nan": False, "separators": (",", ":")}


def api_json(data: Any) -> str:
    """`data` as the API's JSON renderer writes it, before its escape of U+2028 and U+2029 (`escaped`): the text a
    representation's ETag digests (config.api.http.representation_etag)."""
    return json.dumps(data, **_OPTIONS)


def escaped(text: str) -> str:
    """What JSONRenderer sends for `api_json`'s text: U+2028 and U+2029 escaped, so the body is JavaScript too."""
    if "\u2028" in text or "\u2029" in text:
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def object_with(key: str, rendered: str, rest: Mapping[str, Any]) -> str:
    """The renderer's text of `{key: <the value rendered as `rendered`>, **rest}` (`rendered` already `escaped`):
    the members' JSON joined, the value's text not written again."""
    if key in rest:  # the key would take rest's value in the first place: nothing to reuse
        return escaped(api_json({key: None, **rest}))
    head = "{" + json.dumps(key) + ":" + rendered
    if not rest:
        return head + "}"
    return head + "," + escaped(api_json(rest))[1:]


class RenderedResponse(Response):
    """A Response whose body is `{"data": <rendered>}` written from text already rendered (`escaped(api_json(...))`)
    instead of running the renderer again; `data` stays what it is for whoever reads it (the idempotency record, the
    create's Location). Only the JSON renderer (the API's one) takes the text; another would render `data` itself."""

    def __init__(self, data: Mapping[str, Any], rendered: str, **kwargs: Any) -> None:
        super().__init__({"data": data}, **kwargs)
        self.rendered_body = object_with("data", rendered, {}).encode()

    @property
    def rendered_content(self) -> Any:
        renderer = getattr(self, "accepted_renderer", None)
        if type(renderer) is not JSONRenderer or getattr(self, "accepted_media_type", None) != renderer.media_type:
            return super().rendered_content  # an indent asked for, or another renderer: it renders `data` itself
        self["Content-Type"] = renderer.media_type  # as Response.rendered_content sets it (JSON has no charset)
        return self.rendered_body
