"""The API's framework: Django REST framework, knox's tokens and drf-spectacular's schema. Imported by
config.settings (every name here is a setting)."""

from config.settings.env import env_str

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.JSONParser",
        "config.api.parsers.BracketFormParser",
        "config.api.parsers.BracketMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.WindowRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_RATE_LIMIT", "600/min")},
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

REST_KNOX = {
    # The original API sends `Authorization: Bearer <token>`; knox keeps only a SHA-512 digest of it.
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": None,  # expiry is chosen per token when it is created
    "TOKEN_PREFIX": "apt_",
}
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 (a model path, not a secret)
# knox's own migrations create its default token table even when the model is swapped for ApiToken; that table
# would be unused and its foreign key to auth_user blocks TRUNCATE (test flushes). knox's tables are not needed.
MIGRATION_MODULES = {"knox": None}

SPECTACULAR_SETTINGS = {
    "TITLE": "Appointments API",
    "DESCRIPTION": (
        "Remote video appointments between an organisation's agents and a claimant. "
        "A drop-in replacement for the original Laravel API: same paths, bodies, envelopes and error shapes."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["config.api.schema.strip_optional_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.form_bodies_with_bracket_keys",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.Status",
        "AppointmentOutcomeEnum": "appointments.models.Outcome",
        "FeaturesBandwidthEnum": "appointments.models.Bandwidth",
        "ClaimantDataTypeEnum": "claimants.models.FieldType",
    },
}
