"""The claimant in the appointment representation, and the shape of a claimant change in a PATCH."""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claimants.models import Claimant, ClaimantData, FieldType
from claimants.services import EARLIEST_DATE_OF_BIRTH
from config.api.fields import DateField, MillisecondsDateTimeField, ScalarField
from config.api.parsers import is_index
from config.api.validation import refuse_only_unknown

MAX_DATA_ITEMS = 200
PHONE_HELP = "Stored in E.164 (+447911123456); a number without + is read in the service's default region (GB)."

LANGUAGE_HELP = (
    "The language the claimant reads (BCP 47: en or cy): their page, emails, text messages and calendar invitations. "
    "Present only when set; null or empty unsets it (the department's default applies)."
)


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
    name = serializers.CharField(read_only=True, allow_null=True, help_text="Null only once erased.")
    data = ClaimantDataSerializer(many=True, read_only=True)  # type: ignore[assignment]
    # Additive (issue 21.2): not read-only only so that the schema does not list it as required (as `outcome`).
    erased_at = MillisecondsDateTimeField(
        required=False,
        help_text="Present only once the claimant's personal data was erased (absent otherwise): their name, phone "
        "number, email, date of birth and data values are then null, and the appointment can no longer be changed.",
    )

    class Meta:
        model = Claimant
        fields = ["name", "phone_number", "email", "date_of_birth", "data", "preferred_language", "erased_at"]
        # The additive keys are optional in the schema (not read-only, which the schema lists as always present).
        read_only_fields = fields[:-2]
        extra_kwargs = {"preferred_language": {"help_text": LANGUAGE_HELP, "required": False}}

    def to_representation(self, instance: Claimant) -> dict[str, Any]:
        shown = dict(super().to_representation(instance))
        for additive in ("preferred_language", "erased_at"):
            if shown.get(additive) is None:
                shown.pop(additive, None)  # additive: absent where unset, as the fast representation leaves it
        return shown


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
        elif isinstance(data, Mapping) and all(is_index(key) for key in data):
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
    phone_number = serializers.CharField(max_length=40, allow_null=True, allow_blank=True, help_text=PHONE_HELP)
    email = serializers.CharField(max_length=254, allow_null=True, allow_blank=True)
    date_of_birth = DateField(allow_null=True, help_text=f"Written YYYY-MM-DD, from {EARLIEST_DATE_OF_BIRTH} to today.")
    # Not required in the schema: a client generated from the schema before this key keeps working unchanged.
    preferred_language = serializers.CharField(
        max_length=35, allow_null=True, allow_blank=True, required=False, help_text=LANGUAGE_HELP
    )
    data = ClaimantDataItemsField(required=False, allow_null=True)  # type: ignore[assignment]

    def to_internal_value(self, data: Any) -> Any:
        refuse_only_unknown(data, known=self.fields.keys(), path="claimant.")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "format": "uuid", "description": "The data field's id."},
                        "name": {"type": "string", "description": "The data field's name (instead of id)."},
                        "value": {
                            "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
                            "nullable": True,
                        },
                    },
                },
            },
            {"type": "object", "additionalProperties": True, "description": "Field name or id -> value."},
        ]
    }
)
class ClaimantDataValuesField(serializers.Field):
    """Data values at creation: `[{"name"|"id": ..., "value": ...}]` or `{"<name or id>": value}`.

    Comes out as a mapping from field name or id to the raw value; the service checks it against the fields.
    """

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and not all(is_index(key) for key in data):
            pairs = [(str(key), key, value) for key, value in data.items()]
        else:
            if isinstance(data, Mapping):
                data = [data[key] for key in sorted(data, key=int)]
            if not isinstance(data, list):
                raise serializers.ValidationError("The claimant.data field must be an array or an object.")
            pairs = []
            errors: dict[str, Any] = {}
            for index, item in enumerate(data):
                name = item.get("id") or item.get("name") if isinstance(item, Mapping) else None
                if not isinstance(name, str) or not name.strip():
                    errors[str(index)] = {"id": ["Each item needs the id or the name of a data field."]}
                    continue
                pairs.append((str(index), name.strip(), item.get("value")))
            if errors:
                raise serializers.ValidationError(errors)
        if len(pairs) > MAX_DATA_ITEMS:
            raise serializers.ValidationError(
                f"The claimant.data field must not have more than {MAX_DATA_ITEMS} items."
            )
        values: dict[str, Any] = {}
        for position, key, value in pairs:
            if isinstance(value, Mapping | list):
                raise serializers.ValidationError(
                    {position: {"value": ["Must be a string, a number, a boolean or null."]}}
                )
            if key in values:
                raise serializers.ValidationError({position: {"id": ["The data field is given twice."]}})
            values[key] = value
        return values

    def to_representation(self, value: Any) -> Any:
        return value


class ClaimantCreateSerializer(ClaimantUpdateSerializer):
    """The claimant of a new appointment: `name` is required, the rest optional."""

    data = ClaimantDataValuesField(required=False, allow_null=True)  # type: ignore[assignment]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in fields.items():
            field.required = name == "name"
        return fields
