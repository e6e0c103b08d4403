"""Content negotiation: the original answers JSON whatever `Accept` says, and so does this service."""

from collections.abc import Iterable
from typing import Any

from rest_framework import parsers
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class AlwaysJSONNegotiation(BaseContentNegotiation):
    """The original answers JSON whatever the Accept header says; so does this service (never a 406)."""

    def select_parser(self, request: Request, parsers: Iterable[parsers.BaseParser]) -> Any:
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
