"""DRF glue: Bearer authentication, parsers for the original's bodies, and the Laravel error contract.

Everything an API client can send passes through here before a view sees it, and every error a view
raises leaves through `exception_handler`, so the error shapes live in one place.
"""

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from hmac import compare_digest
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied as DjangoPermissionDenied,
)
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import (
    ValidationError as DjangoValidationError,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, QueryDict
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import exceptions, parsers, status
from rest_framework.authentication import get_authorization_header
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.pagination import BasePagination
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.models import ApiToken

logger = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "Not found."
UNAUTHENTICATED_MESSAGE = "Unauthenticated."
UNAUTHORIZED_MESSAGE = "This action is unauthorized."
# How often a token's last_used_at is written: once a minute is precise enough and spares a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


# --- authentication -------------------------------------------------------------------------------------------


class BearerTokenAuthentication(TokenAuthentication):
    """knox's hashed tokens behind `Authorization: Bearer`, plus revocation and last-use tracking.

    knox's own lookup decodes the token unguarded (a 500 on non-UTF-8 bytes) and deletes the user's
    expired tokens on every request (one query per token); this keeps one query and keeps the audit rows.
    """

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2 or len(parts[1]) > 128:
            raise exceptions.AuthenticationFailed(UNAUTHENTICATED_MESSAGE)
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(UNAUTHENTICATED_MESSAGE) from None
        return self.authenticate_credentials(token)

    def authenticate_credentials(self, token: str) -> tuple[Any, ApiToken]:
        digest = hash_token(token)
        now = timezone.now()
        candidates = ApiToken.objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user")
        for api_token in candidates:
            if not compare_digest(digest, api_token.digest):
                continue
            if not api_token.is_usable(now) or not api_token.user.is_active:
                break
            if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
                ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            return api_token.user, api_token
        raise exceptions.AuthenticationFailed(UNAUTHENTICATED_MESSAGE)


# --- parsers ----------------------------------------------------------------------------------------------------

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


class JSONParser(parsers.JSONParser):
    """JSON bodies, with a depth limit; deep nesting would otherwise end in a RecursionError (a 500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            raw = stream.read()
            if not raw.strip():
                return {}
            data = json.loads(raw.decode("utf-8"))
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


class BracketFormParser(parsers.FormParser):
    """`application/x-www-form-urlencoded` with PHP bracket keys."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        return nest_form_data(super().parse(stream, media_type, parser_context))


class BracketMultiPartParser(parsers.MultiPartParser):
    """`multipart/form-data` with PHP bracket keys; files are not part of this API and are dropped."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        return nest_form_data(parsed.data)


# --- content negotiation ----------------------------------------------------------------------------------------


class AlwaysJSONNegotiation(BaseContentNegotiation):
    """The original answers JSON whatever the Accept header says; so does this service (never a 406)."""

    def select_parser(self, request: Request, parsers: Iterable[parsers.BaseParser]) -> Any:
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


# --- errors -----------------------------------------------------------------------------------------------------


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The appointment has changed since it was read: If-Match does not match its current ETag."
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Try again shortly."
    default_code = "service_unavailable"


def _humanise(path: str) -> str:
    return path.replace("_", " ") if "." not in path else path


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as Laravel's flat `{"claimant.data.0.value": ["..."]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            key = str(key)
            path = prefix if key in {"non_field_errors", "__all__"} else (f"{prefix}.{key}" if prefix else key)
            for sub_path, messages in flatten_errors(value, path).items():
                out.setdefault(sub_path, []).extend(messages)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            out[prefix or "body"] = [_phrase(str(item), _humanise(prefix)) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    for sub_path, messages in flatten_errors(
                        item, f"{prefix}.{index}" if prefix else str(index)
                    ).items():
                        out.setdefault(sub_path, []).extend(messages)
    else:
        out[prefix or "body"] = [_phrase(str(detail), _humanise(prefix))]
    return out


def _phrase(message: str, attribute: str) -> str:
    """Name the field in DRF's generic messages, as Laravel's messages do ("The name field is required.")."""
    if attribute and message.startswith("This field"):
        return f"The {attribute} field{message[len('This field') :]}"
    return message


def validation_response(errors: dict[str, list[str]]) -> Response:
    messages = [message for field_messages in errors.values() for message in field_messages]
    message = messages[0] if messages else "The given data was invalid."
    more = len(messages) - 1
    if more > 0:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return Response({"message": message, "errors": errors}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


def _django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("body" if key == "__all__" else key): [str(message) for message in messages]
            for key, messages in exc.message_dict.items()
        }
    return {"body": [str(message) for message in exc.messages]}


def _message(status_code: int, exc: exceptions.APIException, context: Mapping[str, Any]) -> str:
    if status_code == status.HTTP_401_UNAUTHORIZED:
        return UNAUTHENTICATED_MESSAGE
    if status_code == status.HTTP_403_FORBIDDEN:
        return UNAUTHORIZED_MESSAGE
    if status_code == status.HTTP_404_NOT_FOUND:
        return NOT_FOUND_MESSAGE
    if status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        view = context.get("view")
        request = context.get("request")
        allowed = ", ".join(getattr(view, "allowed_methods", []))
        method = request.method if request is not None else "This"
        return f"The {method} method is not supported for this route. Supported methods: {allowed}."
    return str(exc.detail) if not isinstance(exc.detail, list | dict) else str(exc.default_detail)


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """Every API error in Laravel's shape; never HTML, never a traceback; the transaction rolled back."""
    # Imported here: rest_framework.views imports this module (through the settings) while it loads.
    from rest_framework.views import set_rollback

    set_rollback()
    if isinstance(exc, DjangoValidationError):
        return validation_response(_django_validation_errors(exc))
    if isinstance(exc, exceptions.ValidationError):
        return validation_response(flatten_errors(exc.detail))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        exc = PayloadTooLarge(
            "The request body is too large." if isinstance(exc, RequestDataTooBig) else "Too many form fields."
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request is malformed.")
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        exc = ServiceUnavailable()
    elif not isinstance(exc, exceptions.APIException):
        kind = "database error" if isinstance(exc, DatabaseError) else "unhandled error"
        logger.exception("%s in API view", kind)
        return Response({"message": "Server Error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    assert isinstance(exc, exceptions.APIException)
    status_code = exc.status_code
    headers: dict[str, str] = {}
    if status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait)))
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = "5"
    return Response({"message": _message(status_code, exc, context)}, status=status_code, headers=headers)


# --- pagination -------------------------------------------------------------------------------------------------


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 1 else default


class LaravelPagination(BasePagination):
    """Laravel's length-aware paginator: `data`, `links.first/last/prev/next` and `meta`.

    As Laravel does, a page that is not a positive integer reads as 1, a page past the end is empty, and
    `per_page` falls back to the default (15) when malformed and is capped at 100. Links keep the other
    query parameters (filters, sort), so following `next` keeps the same list.
    """

    page_size = 15
    max_page_size = 100
    on_each_side = 3

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.per_page = min(_positive_int(request.query_params.get("per_page"), self.page_size), self.max_page_size)
        self.page = _positive_int(request.query_params.get("page"), 1)
        self.total = queryset.count()
        self.last_page = max(1, -(-self.total // self.per_page))
        offset = (self.page - 1) * self.per_page
        return list(queryset[offset : offset + self.per_page]) if offset < self.total else []

    def _url(self, page: int | None) -> str | None:
        if page is None:
            return None
        query = self.request.query_params.copy()
        query["page"] = str(page)
        return f"{self.request.build_absolute_uri(self.request.path)}?{query.urlencode()}"

    @property
    def _previous_url(self) -> str | None:
        # Laravel's previousPageUrl(): any page after the first has one.
        return self._url(self.page - 1) if self.page > 1 else None

    @property
    def _next_url(self) -> str | None:
        return self._url(self.page + 1) if self.page < self.last_page else None

    def _page_links(self) -> list[dict[str, Any]]:
        window = range(max(1, self.page - self.on_each_side), min(self.last_page, self.page + self.on_each_side) + 1)
        pages = sorted({1, self.last_page, *window})
        links: list[dict[str, Any]] = [{"url": self._previous_url, "label": "&laquo; Previous", "active": False}]
        previous = 0
        for page in pages:
            if page - previous > 1:
                links.append({"url": None, "label": "...", "active": False})
            links.append({"url": self._url(page), "label": str(page), "active": page == self.page})
            previous = page
        links.append({"url": self._next_url, "label": "Next &raquo;", "active": False})
        return links

    def get_paginated_response(self, data: Any) -> Response:
        shown = len(data)
        first_index = (self.page - 1) * self.per_page + 1
        return Response(
            {
                "data": data,
                "links": {
                    "first": self._url(1),
                    "last": self._url(self.last_page),
                    "prev": self._previous_url,
                    "next": self._next_url,
                },
                "meta": {
                    "current_page": self.page,
                    "from": first_index if shown else None,
                    "last_page": self.last_page,
                    "links": self._page_links(),
                    "path": self.request.build_absolute_uri(self.request.path),
                    "per_page": self.per_page,
                    "to": first_index + shown - 1 if shown else None,
                    "total": self.total,
                },
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = {"type": "string", "format": "uri", "nullable": True}
        number = {"type": "integer"}
        return {
            "type": "object",
            "required": ["data", "links", "meta"],
            "properties": {
                "data": schema,
                "links": {"type": "object", "properties": {k: url for k in ("first", "last", "prev", "next")}},
                "meta": {
                    "type": "object",
                    "properties": {
                        "current_page": number,
                        "from": {"type": "integer", "nullable": True},
                        "last_page": number,
                        "links": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"url": url, "label": {"type": "string"}, "active": {"type": "boolean"}},
                            },
                        },
                        "path": {"type": "string", "format": "uri"},
                        "per_page": number,
                        "to": {"type": "integer", "nullable": True},
                        "total": number,
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
                "description": "Page number.",
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size},
                "description": f"Items per page (default {self.page_size}, at most {self.max_page_size}).",
            },
        ]
