"""The channel of every change a request makes (ledger.context): the API, the back office, a participant's page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ledger.context import channel, channel_of_path


class ChannelMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with channel(channel_of_path(request.path_info)):
            return self.get_response(request)
