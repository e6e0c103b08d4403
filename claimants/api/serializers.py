"""The claimant in the appointment representation, and the shape of a claimant change in a PATCH."""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claimants.models import Claimant, ClaimantData, FieldType

MAX_DATA_ITEMS = 200


class ClaimantDataSerializer(serializers.ModelSerializer[ClaimantData]):
    value = serializers.CharField(allow_null=True, read_only=True, help_text="Canonical text form, or null.")
    name = serializers.CharField(source="field.name", read_only=True)
    type = serializers.ChoiceField(source="field.type", choices=FieldType.choices, read_only=True)
    required = serializers.BooleanField(source="field.required", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = ClaimantData
        fields = ["id", "value", "name", "type", "required"]
        read_only_fields = fields


class ClaimantSerializer(serializers.ModelSerializer[Claimant]):
    data = ClaimantDataSerializer(many=True, read_only=True)  # type: ignore[assignment]

    class Meta:
        model = Claimant
        fields = ["name", "phone_number", "email", "date_of_birth", "data"]
        read_only_fields = fields


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}], "nullable": True})
class ScalarField(serializers.Field):
    """A data value as a client sends it; its type is checked against the data field by the service."""

    default_error_messages = {"invalid": "Must be a string, a number, a boolean or null."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str | int | float | bool):
            return data
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


class ClaimantDataItemUpdateSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The id of an existing data item of this claimant.")
    value = ScalarField(allow_null=True, help_text="Validated against the item's type; null or '' empties it.")


@extend_schema_field(ClaimantDataItemUpdateSerializer(many=True))
class ClaimantDataItemsField(serializers.Field):
    """`data` as a JSON list, or as form bracket keys (`claimant[data][0][id]`), which may skip indexes.

    Validated items come out as `(key, item)` pairs so errors name the index the client sent.
    """

    default_error_messages = {
        "not_a_list": "The {path} field must be an array.",
        "too_many": f"The {{path}} field must not have more than {MAX_DATA_ITEMS} items.",
    }

    def to_internal_value(self, data: Any) -> list[tuple[str, dict[str, Any]]]:
        path = "claimant.data"
        if isinstance(data, list):
            pairs = [(str(index), item) for index, item in enumerate(data)]
        elif isinstance(data, Mapping) and all(str(key).isdigit() for key in data):
            pairs = [(str(key), item) for key, item in data.items()]
        else:
            self.fail("not_a_list", path=path)
        if len(pairs) > MAX_DATA_ITEMS:
            self.fail("too_many", path=path)
        result: list[tuple[str, dict[str, Any]]] = []
        errors: dict[str, Any] = {}
        for key, item in pairs:
            serializer = ClaimantDataItemUpdateSerializer(data=item)
            if serializer.is_valid():
                result.append((key, dict(serializer.validated_data)))
            else:
                errors[key] = serializer.errors
        if errors:
            raise serializers.ValidationError(errors)
        return result

    def to_representation(self, value: Any) -> Any:
        return value


class ClaimantUpdateSerializer(serializers.Serializer):
    """A claimant change: send only the fields to change; `name` cannot be emptied."""

    name = serializers.CharField(max_length=255)
    phone_number = serializers.CharField(max_length=40, allow_null=True, allow_blank=True)
    email = serializers.CharField(max_length=254, allow_null=True, allow_blank=True)
    date_of_birth = serializers.DateField(allow_null=True)
    data = ClaimantDataItemsField(required=False, allow_null=True)  # type: ignore[assignment]
