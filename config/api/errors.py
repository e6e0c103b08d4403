"""The Laravel error contract: messages, the 422 body, and the one exception handler every API error leaves by.

Every error a view raises becomes `{"message": ...}` (with `errors` for a 422), never HTML, never a traceback,
and the transaction is rolled back.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import (
    PermissionDenied as DjangoPermissionDenied,
)
from django.core.exceptions import (
    ValidationError as DjangoValidationError,
)
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.log import log_response
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.outage import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, report_database_unavailable

NOT_FOUND_MESSAGE = "Not found."
UNAUTHENTICATED_MESSAGE = "Unauthenticated."
UNAUTHORIZED_MESSAGE = "This action is unauthorized."


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The appointment has changed since it was read: If-Match does not match its current ETag."
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


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


def _printable(text: str) -> str:
    """Text a response can encode: a lone surrogate (JSON's `\\ud800` escape) that a message repeats back is
    replaced, so the error is answered instead of failing as a 500 while it is written."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def validation_response(errors: dict[str, list[str]]) -> Response:
    errors = {_printable(key): [_printable(message) for message in messages] for key, messages in errors.items()}
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


def report_unhandled(request: HttpRequest | None, response: HttpResponse, exc: BaseException) -> None:
    """Report an exception answered with a 500 as Django reports a view's: `got_request_exception` (Sentry and the
    test client listen to it) and one `django.request` line with the traceback and the request (the error mail).
    log_response marks the response, so Django's handler does not log (and mail) it a second time."""
    got_request_exception.send(sender=None, request=request)
    path = request.path if request is not None else "(no request)"
    log_response("Internal Server Error: %s", path, response=response, request=request, exception=exc)


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
    elif isinstance(exc, BadRequest):  # a body cut short (config.middleware.IncompleteBody), among others
        exc = exceptions.ParseError(str(exc) or "The request is malformed.")
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        response = Response(
            {"message": UNAVAILABLE_MESSAGE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        report_database_unavailable(getattr(context.get("request"), "_request", None), response, exc)
        return response
    elif not isinstance(exc, exceptions.APIException):
        response = Response({"message": "Server Error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        report_unhandled(getattr(context.get("request"), "_request", None), response, exc)
        return response

    assert isinstance(exc, exceptions.APIException)
    status_code = exc.status_code
    headers: dict[str, str] = {}
    if status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait)))
    return Response({"message": _printable(_message(status_code, exc, context))}, status=status_code, headers=headers)
