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
    400: OpenApiResponse(
        _MESSAGE, description="Malformed JSON or form body, nested too deeply, or shorter than its Content-Length."
    ),
    401: OpenApiResponse(_MESSAGE, description="Missing, malformed, unknown, expired or revoked token."),
    403: OpenApiResponse(_MESSAGE, description="The token may not do this."),
    404: OpenApiResponse(_MESSAGE, description="No such appointment, or one outside the caller's departments."),
    405: OpenApiResponse(_MESSAGE, description="Method not allowed."),
    411: OpenApiResponse(_MESSAGE, description="A chunked body without Content-Length; nothing changed."),
    412: OpenApiResponse(_MESSAGE, description="If-Match does not match the current ETag; nothing changed."),
    413: OpenApiResponse(_MESSAGE, description="Body too large or too many form fields."),
    415: OpenApiResponse(_MESSAGE, description="Unsupported content type."),
    422: OpenApiResponse(_VALIDATION, description="Validation failed; nothing changed."),
    429: OpenApiResponse(_MESSAGE, description="Too many requests; see Retry-After."),
    503: OpenApiResponse(_MESSAGE, description="Database unavailable; see Retry-After."),
}

IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="ETag from a previous GET or PATCH; a stale one gets 412 and changes nothing.",
)


DRY_RUN_PARAMETER = OpenApiParameter(
    "dry_run",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["true", "false", "1", "0"],
    description="`true`: check and answer as the change would (the same status, body, errors and If-Match "
    "handling), with what it would cause under `dry_run`, and change nothing (no row, history, event, message or "
    "webhook; the ETag, the appointment's current one, is unchanged). Any other value is a 422.",
)
DRY_RUN_RESPONSE_HEADER = OpenApiParameter(
    "Dry-Run",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[200, 400, 404, 412, 415, 422],
    description="`true` on the answers to a request with `dry_run=true` (its errors too): nothing was changed.",
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


# --- postprocessing: form bodies as the server reads them -----------------------------------------------------

_FORM_MEDIA = ("multipart/form-data", "application/x-www-form-urlencoded")
_FORM_BOOLEAN = {"type": "string", "enum": ["true", "false", "1", "0"]}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "oneOf" in schema:  # a body that takes several shapes: forms send the first structured one
        shapes = [_resolve(option, components) for option in schema["oneOf"]]
        return next((shape for shape in shapes if shape.get("type") in ("array", "object")), shapes[0])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return {**_resolve(schema["allOf"][0], components), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def _form_scalar(schema: dict[str, Any]) -> dict[str, Any]:
    """A form value is a string: booleans as true/false/1/0, an empty string for null."""
    out: dict[str, Any] = dict(_FORM_BOOLEAN) if schema.get("type") == "boolean" else {"type": "string"}
    for key in ("format", "pattern", "maxLength", "enum", "description"):
        if key in schema and not (key in ("format", "pattern") and schema.get("type") != "string"):
            out[key] = schema[key]
    if schema.get("type") in ("integer", "number"):
        out["pattern"] = r"^-?\d+(\.\d+)?$" if schema["type"] == "number" else r"^-?\d+$"
    if schema.get("nullable"):
        out["description"] = (out.get("description", "") + " An empty value means null.").strip()
    return out


def _flatten(
    schema: dict[str, Any], components: dict[str, Any], prefix: str, required: bool
) -> tuple[dict[str, Any], list[str]]:
    schema = _resolve(schema, components)
    if schema.get("type") == "object" and "properties" in schema:
        properties: dict[str, Any] = {}
        needed: list[str] = []
        for name, child in schema["properties"].items():
            if child.get("readOnly"):
                continue
            key = f"{prefix}[{name}]" if prefix else name
            child_required = required and name in schema.get("required", [])
            flat, child_needed = _flatten(child, components, key, child_required)
            properties |= flat
            needed += child_needed
        return properties, needed
    if schema.get("type") == "array" and "items" in schema:
        items = _resolve(schema["items"], components)
        if items.get("type") == "object":  # documented for index 0; send 1, 2, ... the same way
            return _flatten(items, components, f"{prefix}[0]", False)
        return {f"{prefix}[]": _form_scalar(items)}, []
    return {prefix: _form_scalar(schema)}, ([prefix] if required else [])


def form_bodies_with_bracket_keys(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Document form bodies as the server reads them: flat bracket keys (`claimant[data][0][id]`) with string
    values, not nested objects (which OpenAPI would send as JSON parts the server refuses). The POST method
    override documents the PATCH body, where nothing is required."""
    components = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            body_spec = operation.get("requestBody", {})
            content = body_spec.get("content", {})
            override = operation.get("operationId") == "appointments_partial_update_by_post"
            for media, body in content.items():
                ref = body.get("schema", {}).get("$ref", "")
                name = ref.rsplit("/", 1)[-1]
                if override and name and f"Patched{name}" in components:
                    name = f"Patched{name}"
                    body["schema"] = {"$ref": f"#/components/schemas/{name}"}
                if media not in _FORM_MEDIA or name not in components:
                    continue
                flat_name = f"{name}Form"
                if flat_name not in components:
                    properties, needed = _flatten(components[name], components, "", True)
                    # Only these keys mean anything; another would be ignored, or collide with a bracket key (400).
                    components[flat_name] = {"type": "object", "properties": properties, "additionalProperties": False}
                    if needed:
                        components[flat_name]["required"] = needed
                    if "description" in components[name]:
                        components[flat_name]["description"] = components[name]["description"]
                body["schema"] = {"$ref": f"#/components/schemas/{flat_name}"}
            # A body none of whose fields is required may be left out altogether (cancel, a PATCH).
            if content and not any(_required_fields(b.get("schema", {}), components) for b in content.values()):
                body_spec["required"] = False
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter["name"] not in ("page", "per_page", "_method"):
                    parameter["allowEmptyValue"] = True  # an empty filter or sort is no filter, as in Laravel
    return result


def _required_fields(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    return list(_resolve(schema, components).get("required", []))
