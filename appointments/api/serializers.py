"""Shapes of the appointment API: the representation (read) and the PATCH body (write).

The read shape is the seed's response example, key for key and in its order. The write shape only checks
types and shapes; the rules live in `appointments.services`.
"""

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import models
from rest_framework import serializers

from appointments import hooks
from appointments.models import (
    FEATURE_FIELDS,
    MAX_DURATION,
    MIN_DURATION,
    WRITABLE_FIELDS,
    Appointment,
    Department,
    Outcome,
    Status,
    api_name,
    validate_http_url,
)
from appointments.shape import ADDITIVE, KEYS, DepartmentShown
from claimants.api.serializers import ClaimantCreateSerializer, ClaimantSerializer, ClaimantUpdateSerializer
from claimants.models import ClaimantDataField, FieldType
from config.api.fields import (
    TIME_FORMAT,
    IntegerField,
    MillisecondsDateTimeField,
    NullableUrlField,
    StrictBooleanField,
    TimeField,
)
from config.api.validation import refuse_only_unknown


class DepartmentSummarySerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = list(DepartmentShown.__annotations__)
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer[Appointment]):
    """The Appointment representation of the contract."""

    reference = serializers.CharField(read_only=True)
    appointment_at = MillisecondsDateTimeField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="The claimant's own page for this appointment.")
    created_at = MillisecondsDateTimeField(read_only=True)
    cancelled_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    department = DepartmentSummarySerializer(read_only=True)
    claimant = ClaimantSerializer(read_only=True)
    session_started_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    session_ended_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    # Additive (issue 17.2): present only when set. Not read-only (nor any additive key), only so that the schema
    # does not list it as required (drf-spectacular lists every read-only field of a response as required); nothing
    # writes through this serializer, which only describes the answer.
    outcome = serializers.ChoiceField(
        choices=Outcome.choices,
        required=False,
        help_text="Present only when set (absent otherwise). `missed_by_organisation`: the claimant came to the "
        "waiting room inside the join window and the session was never started; the appointment is `cancelled` "
        "with a `cancellation_reason` saying so, and the `appointment.missed` webhook follows "
        "`appointment.cancelled`. An appointment with no outcome ended as its status says.",
    )

    class Meta:
        model = Appointment
        fields = list(KEYS)  # the one declaration of the shape (appointments.shape), in its order
        read_only_fields = [key for key in KEYS if key not in ADDITIVE]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `meeting` is meetings' to describe (its MeetingSerializer, registered from MeetingsConfig.ready(): the app
        # above appointments, docs/layout.md "Layers"); replaced in its place, so the keys keep the shape's order.
        fields["meeting"] = hooks.meeting_field.get()()
        return fields

    def to_representation(self, instance: Appointment) -> dict[str, Any]:
        shown = super().to_representation(instance)
        for key in ADDITIVE:
            if shown.get(key) is None:
                del shown[key]  # absent where unset, as the fast representation leaves it
        return dict(shown)


class AppointmentEnvelopeSerializer(serializers.Serializer):
    data = AppointmentSerializer()  # type: ignore[assignment]


class DryRunSerializer(serializers.Serializer):
    """What a change tried with `?dry_run=true` would cause (appointments.services.dry_run)."""

    events = serializers.ListField(
        child=serializers.CharField(),
        help_text="The event types it would record, in order (as the webhooks name them).",
    )
    messages = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The claimant's messages it would send or plan, by channel (`email`, `sms`): `booked`, "
        "`rescheduled`, `cancelled`, `missed`, one `reminder` per reminder planned.",
    )
    join_links_renewed = serializers.BooleanField(
        help_text="Whether a participant would get a new link (an interpreter becoming needed); the claimant's link "
        "never changes."
    )


class AppointmentChangeEnvelopeSerializer(serializers.Serializer):
    """A change's answer: the appointment, and with `?dry_run=true` what the change would cause (absent otherwise)."""

    data = AppointmentSerializer()  # type: ignore[assignment]
    dry_run = DryRunSerializer(
        required=False, help_text="Only in the answer to `?dry_run=true`: nothing was changed, this is what would be."
    )


class _ColumnFields(serializers.ModelSerializer[Appointment]):
    """Builds a writable column's API field from the model, as DRF does (every boolean here is strict)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
    }

    class Meta:
        model = Appointment
        fields: list[str] = []


@cache
def _column_spec(name: str) -> tuple[type[serializers.Field], dict[str, Any]]:
    column = Appointment._meta.get_field(name)
    assert isinstance(column, models.Field)
    return _ColumnFields().build_standard_field(name, column)  # built once: a request only instantiates it


def column_field(name: str) -> serializers.Field:
    """The API field of a writable column the write serializer does not declare by hand (the feature settings)."""
    field_class, kwargs = _column_spec(name)
    return field_class(**kwargs)


# Keys a body may carry besides its writable fields, which it ignores: the representation's (a client may send back
# what it read) and the original's `_method` override as a form field.
READ_BACK = frozenset({*AppointmentSerializer.Meta.fields, "_method"})


class AppointmentUpdateSerializer(serializers.Serializer):
    """The PATCH body: send only the fields to change.

    Read-only representation fields (`id`, `reference`, `url`, `created_at`, `cancelled_at`, `session_*`,
    `meeting`, the `department` object) and unknown keys are ignored, so a client can send back what it read.
    A string `department` is an alias of `department_id`, as the original's forms send it.
    """

    appointment_at = TimeField(help_text=f"Written {TIME_FORMAT}.")
    duration_in_minutes = IntegerField(min_value=MIN_DURATION, max_value=MAX_DURATION)
    department_id = serializers.UUIDField(help_text="A department the caller may use.")
    is_interpreter_needed = StrictBooleanField(allow_null=True, help_text="null is read as false.")
    interpreter_language = serializers.CharField(max_length=100, allow_null=True, allow_blank=True)
    status = serializers.ChoiceField(choices=Status.choices, allow_null=True, help_text="null leaves it unchanged.")
    cancellation_reason = serializers.CharField(
        max_length=2000, allow_null=True, allow_blank=True, help_text="Only together with `status: cancelled`."
    )
    claimant = ClaimantUpdateSerializer()
    agent_id = IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        allow_null=True,
        help_text="Optional: the staff member who runs it (a member of its department; null: nobody). Two live "
        "appointments of one agent may not overlap. Listed with the participants; not in the representation.",
    )
    # The other writable columns (the feature settings) are built from the model by get_fields.
    use_custom_post_call_redirect = StrictBooleanField()
    custom_user_post_call_redirect_url = NullableUrlField(validators=[validate_http_url])
    custom_agent_post_call_redirect_url = NullableUrlField(validators=[validate_http_url])

    def get_fields(self) -> dict[str, serializers.Field]:
        """The writable columns, from the one declaration (WRITABLE_FIELDS, in its order): the field declared here
        where a column needs more than the model says, else the one DRF builds from the model; then the rest
        declared here (the nested claimant)."""
        declared = super().get_fields()
        fields = {
            api_name(name): declared.pop(api_name(name)) if api_name(name) in declared else column_field(name)
            for name in WRITABLE_FIELDS
        }
        return fields | declared

    def to_internal_value(self, data: Any) -> Any:
        refuse_only_unknown(data, known=self.fields.keys() | READ_BACK)
        if isinstance(data, Mapping) and isinstance(data.get("department"), str) and "department_id" not in data:
            data = {**data, "department_id": data["department"]}
        return super().to_internal_value(data)


class AppointmentCreateSerializer(AppointmentUpdateSerializer):
    """The POST body: `appointment_at`, `duration_in_minutes` and `claimant.name` are required.

    `department_id` (or `department`) may be left out when the caller has exactly one department; feature flags
    left out take the department's defaults; `reference` left out or empty is generated.
    """

    REQUIRED = frozenset({"appointment_at", "duration_in_minutes", "claimant"})

    reference = serializers.CharField(
        max_length=64, allow_null=True, allow_blank=True, help_text="Your own reference, unique in the department."
    )
    department_id = serializers.UUIDField(allow_null=True, help_text="Optional when you have one department.")
    status = serializers.ChoiceField(
        choices=[(Status.SCHEDULED.value, Status.SCHEDULED.label)], allow_null=True, help_text="Always `scheduled`."
    )
    claimant = ClaimantCreateSerializer()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.pop("cancellation_reason")
        for name, field in fields.items():
            field.required = name in self.REQUIRED
        return fields

    # Fields a new appointment has a default for: sent empty or null, they take it (as the original does, and as
    # its own form-data example sends `features_bandwidth=`).
    DEFAULTED = frozenset({*FEATURE_FIELDS, "use_custom_post_call_redirect", "is_interpreter_needed"})

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = {k: v for k, v in data.items() if not (k in self.DEFAULTED and v in (None, ""))}
            if data.get("department") == "" and "department_id" not in data:
                data["department"] = None
        return super().to_internal_value(data)

    def requested_department_id(self) -> Any:
        return self.validated_data.get("department_id")

    def service_arguments(self) -> dict[str, Any]:
        """The validated body as appointment_create's keyword arguments (the department is resolved apart)."""
        data = {k: v for k, v in self.validated_data.items() if k not in {"department_id", "status", "reference"}}
        return {**data, "reference": (self.validated_data.get("reference") or "").strip() or None}


class CancelSerializer(serializers.Serializer):
    cancellation_reason = serializers.CharField(max_length=2000, allow_null=True, allow_blank=True, required=False)

    def to_internal_value(self, data: Any) -> Any:
        refuse_only_unknown(data, known=self.fields.keys() | READ_BACK)
        return super().to_internal_value(data)


class ClaimantDataFieldSerializer(serializers.ModelSerializer[ClaimantDataField]):
    type = serializers.ChoiceField(choices=FieldType.choices, read_only=True)

    class Meta:
        model = ClaimantDataField
        fields = ["id", "name", "type", "required"]
        read_only_fields = fields


class DepartmentContactSerializer(serializers.Serializer):
    """How claimants reach a department; only the details it has."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here, not declared: a declared `help_text` would shadow the serializer's own attribute of that name.
        return {
            "phone": serializers.CharField(source="contact_phone", required=False, help_text="In E.164."),
            "email": serializers.EmailField(source="contact_email", required=False),
            "opening_hours": serializers.CharField(source="contact_hours", required=False),
            "help_text": serializers.CharField(
                source="contact_help", required=False, help_text="A sentence for claimants."
            ),
            "opening_hours_cy": serializers.CharField(
                source="contact_hours_cy", required=False, help_text="The opening hours in Welsh."
            ),
            "help_text_cy": serializers.CharField(
                source="contact_help_cy", required=False, help_text="The sentence for claimants in Welsh."
            ),
        }

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {key: value for key, value in super().to_representation(instance).items() if value}


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    """A department the caller may use, with the claimant data its appointments collect and its defaults."""

    claimant_data_fields = ClaimantDataFieldSerializer(source="data_fields", many=True, read_only=True)
    # Additive (issue 17.8), absent when the department has none; not read-only only so that the schema does not
    # call it required (see AppointmentSerializer.outcome).
    contact = DepartmentContactSerializer(
        source="*",
        required=False,
        help_text="Present only when the department has contact details: how its claimants reach it (what the "
        "service shows on the claimant's pages and in their messages). Only the details it has are listed.",
    )

    # Additive like `contact`, absent when the department has none.
    name_cy = serializers.CharField(required=False, help_text="Present only when set: the department's name in Welsh.")

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "name_cy",
            "claimant_data_fields",
            *FEATURE_FIELDS,
            "contact",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Department) -> dict[str, Any]:
        shown = dict(super().to_representation(instance))
        for additive in ("name_cy", "contact"):
            if not shown.get(additive):
                del shown[additive]
        return shown
