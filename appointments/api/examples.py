"""Request examples shown in the API docs (Swagger UI's "Try it out" sends them as they are).

Each must succeed when sent unchanged by the demo agent of `make run` (the demo department collects a required
"Case number"); tests/appointments/test_api_examples.py sends every one of them.
"""

from drf_spectacular.utils import OpenApiExample

CREATE = OpenApiExample(
    "A new appointment",
    value={
        "appointment_at": "2030-01-30T08:30:00Z",
        "duration_in_minutes": 60,
        "is_interpreter_needed": True,
        "interpreter_language": "Polish",
        "claimant": {
            "name": "Jane Doe",
            "phone_number": "+447911123456",
            "email": "jane.doe@example.com",
            "date_of_birth": "1980-02-29",
            "data": [{"name": "Case number", "value": "CASE-42"}],
        },
        "features_call_recording_enable": False,
        "features_bandwidth": "medium",
    },
    request_only=True,
)

UPDATE = OpenApiExample(
    "Reschedule and change contact details",
    value={
        "appointment_at": "2030-01-31T09:00:00Z",
        "duration_in_minutes": 45,
        "claimant": {"phone_number": "020 7123 4567", "email": "jane.doe@example.com"},
        "features_bandwidth": "medium",
        "use_custom_post_call_redirect": True,
        "custom_user_post_call_redirect_url": "https://example.com/thanks",
    },
    request_only=True,
)

CANCEL = OpenApiExample(
    "Cancel with a reason", value={"cancellation_reason": "The claimant withdrew the claim."}, request_only=True
)
