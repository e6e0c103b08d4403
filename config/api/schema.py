"""OpenAPI pieces shared by the API views: Bearer auth, the error responses and the method override."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <token>`"}


_MESSAGE = inline_serializer("ErrorMessage", fields={"message": serializers.CharField()})
_VALIDATION = inline_serializer(
    "ValidationErrors",
    fields={
        "message": serializers.CharField(help_text='The first error, then "(and N more errors)".'),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Messages per request field, keyed by dot path (`claimant.data.0.value`).",
        ),
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(_MESSAGE, description="Malformed JSON or form body, or nested too deeply."),
    401: OpenApiResponse(_MESSAGE, description="Missing, malformed, unknown, expired or revoked token."),
    403: OpenApiResponse(_MESSAGE, description="The token may not do this."),
    404: OpenApiResponse(_MESSAGE, description="No such appointment, or one outside the caller's departments."),
    405: OpenApiResponse(_MESSAGE, description="Method not allowed."),
    412: OpenApiResponse(_MESSAGE, description="If-Match does not match the current ETag; nothing changed."),
    413: OpenApiResponse(_MESSAGE, description="Body too large or too many form fields."),
    415: OpenApiResponse(_MESSAGE, description="Unsupported content type."),
    422: OpenApiResponse(_VALIDATION, description="Validation failed; nothing changed."),
    429: OpenApiResponse(_MESSAGE, description="Too many requests; see Retry-After."),
    503: OpenApiResponse(_MESSAGE, description="Database unavailable; see Retry-After."),
}

METHOD_OVERRIDE_PARAMETERS = [
    OpenApiParameter(
        "_method",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        enum=["PATCH"],
        description="Only with POST: treat the request as PATCH (for multipart/form-data clients).",
    ),
]
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="ETag from a previous GET or PATCH; a stale one gets 412 and changes nothing.",
)


def strip_optional_slash(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """Routes accept an optional trailing slash (`/?`); the documented paths are the contract's, without one."""
    return [(path.rstrip("/") or path, regex, method, view) for path, regex, method, view in endpoints]


def form_bodies(serializer: type[serializers.BaseSerializer]) -> dict[str, type[serializers.BaseSerializer]]:
    """The body as JSON and as the original's form posts (bracket keys), all parsed into the same shape."""
    return {
        "application/json": serializer,
        "multipart/form-data": serializer,
        "application/x-www-form-urlencoded": serializer,
    }
