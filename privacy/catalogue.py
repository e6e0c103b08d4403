"""The marks on columns of models the project does not own, and the columns reviewed as not personal (issue 21.6).

Every column of every model is either marked personal (config.personal, on the field; `mark_others` below for
models the project does not own) or named here as reviewed and not personal, with the reason:
tests/privacy/test_personal_fields.py fails for a column that is neither, so a new column is decided on the day it
is added (docs/adding-a-field.md). A history model's copies of its tracked model's columns follow their marks.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from appointments.features import FEATURE_FIELDS
from config.personal import Category, Erase, personal_fields
from config.personal import personal as mark

_COPY = "a copy of the claimant's values where a task, a change or a staff action wrote them"


def mark_others() -> None:
    """Mark the columns of models the project does not own that can hold a copy of the claimant's data: a task's
    arguments and result, the admin's log of staff's changes, and who made a change in a history row (a guest's or
    interpreter's name)."""
    for label, names in (
        ("django_tasks_database.DBTaskResult", ("args_kwargs", "return_value", "traceback")),
        ("admin.LogEntry", ("object_repr", "change_message")),
    ):
        for name in names:
            _mark_copy(apps.get_model(label), name)
    for model in apps.get_models():
        if is_history(model):
            _mark_copy(model, "history_change_reason")


def _mark_copy(model: type[models.Model], name: str) -> None:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    mark(field, Category.COPY, _COPY, Erase.SCRUB)


def is_history(model: type[models.Model]) -> bool:
    return hasattr(model, "instance_type") and model.__name__.startswith("Historical")


def tracked_of(model: type[models.Model]) -> type[models.Model] | None:
    return getattr(model, "instance_type", None) if is_history(model) else None


_STAFF = "staff's own accounts, sign-ins and tokens: not the claimant's, outside their data's lifecycle"
_FRAMEWORK = "the framework's own bookkeeping"
_FEATURES = frozenset(FEATURE_FIELDS)
_WHEN = "what happened and when, without who: the statistics and the service's own working"
# Columns reviewed and found not to hold a claimant's personal data, model by model, with the reason. A history
# model's copies of its tracked model's columns are decided by the tracked model; its own columns by HISTORY_OWN.
NOT_PERSONAL: dict[str, tuple[str, frozenset[str]]] = {
    "admin.LogEntry": (
        _FRAMEWORK,
        frozenset({"id", "action_time", "user", "content_type", "object_id", "action_flag"}),
    ),
    "auth.Permission": (_FRAMEWORK, frozenset({"id", "name", "content_type", "codename"})),
    "auth.Group": (_FRAMEWORK, frozenset({"id", "name"})),
    "auth.User": (
        _STAFF,
        frozenset({"id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email"})
        | frozenset({"is_staff", "is_active", "date_joined"}),
    ),
    "contenttypes.ContentType": (_FRAMEWORK, frozenset({"id", "app_label", "model"})),
    "sessions.Session": (_STAFF, frozenset({"session_key", "session_data", "expire_date"})),
    "axes.AccessFailureLog": (
        _STAFF,
        frozenset({"id", "user_agent", "ip_address", "username", "http_accept", "path_info", "attempt_time"})
        | frozenset({"locked_out"}),
    ),
    "axes.AccessAttempt": (
        _STAFF,
        frozenset({"id", "user_agent", "ip_address", "username", "http_accept", "path_info", "attempt_time"})
        | frozenset({"get_data", "post_data", "failures_since_start"}),
    ),
    "axes.AccessAttemptExpiration": (_STAFF, frozenset({"access_attempt", "expires_at"})),
    "axes.AccessLog": (
        _STAFF,
        frozenset({"id", "user_agent", "ip_address", "username", "http_accept", "path_info", "attempt_time"})
        | frozenset({"logout_time", "session_hash"}),
    ),
    # Staff's second factor (django-otp, issue 25.2) and single sign-on (django-allauth, issue 25.1).
    "otp_totp.TOTPDevice": (
        _STAFF,
        frozenset({"id", "user", "name", "confirmed", "throttling_failure_timestamp", "throttling_failure_count"})
        | frozenset({"created_at", "last_used_at", "key", "step", "t0", "digits", "tolerance", "drift", "last_t"}),
    ),
    "otp_static.StaticDevice": (
        _STAFF,
        frozenset({"id", "user", "name", "confirmed", "throttling_failure_timestamp", "throttling_failure_count"})
        | frozenset({"created_at", "last_used_at"}),
    ),
    "otp_static.StaticToken": (_STAFF, frozenset({"id", "device", "token"})),
    # Passkeys (django-otp-webauthn): a public key and its bookkeeping, the browser's answer when one was made, and
    # the random handle the authenticator stores for the staff member.
    "django_otp_webauthn.WebAuthnCredential": (
        _STAFF,
        frozenset({"id", "user", "name", "confirmed", "created_at", "last_used_at", "credential_type"})
        | frozenset({"credential_id", "public_key", "transports", "sign_count", "backup_eligible", "backup_state"})
        | frozenset({"aaguid", "credential_id_sha256", "discoverable"}),
    ),
    "django_otp_webauthn.WebAuthnAttestation": (
        _STAFF,
        frozenset({"id", "fmt", "data", "client_data_json", "credential"}),
    ),
    "django_otp_webauthn.WebAuthnUserHandle": (_STAFF, frozenset({"handle_hex", "user"})),
    "account.EmailAddress": (_STAFF, frozenset({"id", "user", "email", "verified", "primary"})),
    "account.EmailConfirmation": (_STAFF, frozenset({"id", "email_address", "created", "sent", "key"})),
    "socialaccount.SocialApp": (
        _STAFF,
        frozenset({"id", "provider", "provider_id", "name", "client_id", "secret", "key", "settings"}),
    ),
    "socialaccount.SocialAccount": (
        _STAFF,
        frozenset({"id", "user", "provider", "uid", "last_login", "date_joined", "extra_data"}),
    ),
    "socialaccount.SocialToken": (_STAFF, frozenset({"id", "app", "account", "token", "token_secret", "expires_at"})),
    "accounts.ApiToken": (
        _STAFF,
        frozenset({"digest", "token_key", "user", "created", "expiry", "name", "revoked_at", "last_used_at"}),
    ),
    "appointments.IdempotencyKey": (
        "the caller's key, a digest of the request and where the created appointment is",
        frozenset({"id", "user", "key", "fingerprint", "response_status", "location", "created_at"}),
    ),
    "appointments.Department": (
        "the organisation's own unit, settings and contact details (not a claimant's)",
        frozenset({"id", "name", "time_zone", "reminder_hours", "contact_phone", "contact_email", "contact_hours"})
        | frozenset({"contact_help", "created_at", "default_language", "bilingual", "retention_days"})
        | frozenset({"calendar_feed_shows_names", "contact_hours_cy", "contact_help_cy", "name_cy"})
        | _FEATURES,
    ),
    "appointments.Appointment": (
        "the appointment itself: its time, length, status, department, agent, features, outcome (what statistics "
        "count, kept after erasure); the reference is the organisation's",
        frozenset({"id", "department", "agent", "reference", "appointment_at", "duration_in_minutes", "status"})
        | frozenset({"is_interpreter_needed", "interpreter_language", "created_at", "updated_at", "cancelled_at"})
        | frozenset({"outcome", "followed_up_at", "followed_up_by", "session_started_at", "session_ended_at"})
        | frozenset({"use_custom_post_call_redirect", "custom_user_post_call_redirect_url"})
        | frozenset({"custom_agent_post_call_redirect_url", "buffer_before_minutes", "buffer_after_minutes"})
        | _FEATURES,
    ),
    "appointments.AppointmentTally": (
        "how many appointments a department has in a status (issue 26.3): numbers, no person",
        frozenset({"id", "department", "status", "count"}),
    ),
    "appointments.BookingRules": (
        "the department's booking rules (issue 23.1)",
        frozenset({"department", "slot_minutes", "buffer_before_minutes", "buffer_after_minutes", "horizon_days"})
        | frozenset({"notice_to_book_minutes", "notice_to_reschedule_minutes", "notice_to_cancel_minutes"})
        | frozenset({"max_claimant_reschedules"}),
    ),
    "appointments.WorkingHours": (
        _STAFF + " (when an agent works, issue 23.1)",
        frozenset({"id", "department", "agent", "weekday", "starts_at", "ends_at"}),
    ),
    "appointments.HoursException": (
        _STAFF + " (the days an agent or the department works otherwise, issue 23.1)",
        frozenset({"id", "department", "agent", "day", "kind", "starts_at", "ends_at", "note"}),
    ),
    "claimants.ClaimantDataField": (
        "the department's list of fields (their names, not the claimant's values)",
        frozenset({"id", "department", "name", "type", "required", "position"}),
    ),
    "claimants.Claimant": ("keys and the erasure's own time", frozenset({"id", "appointment", "erased_at"})),
    "claimants.ClaimantData": ("keys", frozenset({"id", "claimant", "field"})),
    "meetings.Meeting": (
        "the meeting: its number, a room named after the reference, its times",
        frozenset({"id", "appointment", "room_name", "room_url", "start_date", "end_date"}),
    ),
    "meetings.Participant": (
        _WHEN + " (when they waited, were let in, left, consented to a recording)",
        frozenset({"id", "appointment", "role", "user", "created_at", "revoked_at", "joined_waiting_at"})
        | frozenset({"admitted_at", "admitted_by", "left_at", "last_seen_at", "recording_consent"})
        | frozenset({"recording_consent_at", "device_checked_at", "shown_to_staff_at", "message_sent_at"}),
    ),
    "meetings.WaitingMessage": (
        "keys, who sent it and when, and a prepared message's key (the same words to everyone)",
        frozenset({"id", "participant", "prepared", "sent_by", "created_at"}),
    ),
    "meetings.ParticipantBrowser": ("keys and a time", frozenset({"id", "participant", "created_at"})),
    "events.Event": (
        _WHEN,
        frozenset({"sequence", "id", "type", "appointment", "department", "created_at"}) | {"dispatched_at"},
    ),
    "ledger.Entry": (
        "what happened to an appointment, by whom (an id: staff's, or a participant's) and through which door; the "
        "personal values are `personal`'s, and only their salted digest is kept here",
        frozenset({"id", "appointment", "sequence", "occurred_at", "actor_type", "actor_id", "channel", "type"})
        | frozenset({"data", "personal_digest", "previous_hash", "hash"}),
    ),
    "ledger.Digest": (
        "the daily digest of the chains' heads",
        frozenset({"id", "day", "taken_at", "digest"}) | {"departments"},
    ),
    "webhooks.Endpoint": (
        "the department's receivers and their secrets (the organisation's)",
        frozenset({"id", "department", "url", "description", "event_types", "secret", "previous_secret"})
        | frozenset({"previous_secret_expires_at", "is_active", "failing_since", "disabled_reason", "created_by"})
        | frozenset({"created_at", "updated_at"}),
    ),
    "webhooks.Delivery": (
        _WHEN,
        frozenset({"id", "endpoint", "event", "status", "attempts", "next_attempt_at", "held_until", "created_at"})
        | {"finished_at"},
    ),
    "webhooks.Attempt": (
        _WHEN + " (an attempt's error is the service's words: a timeout, a refused address)",
        frozenset({"id", "delivery", "at", "duration_ms", "status_code", "error"}),
    ),
    "notifications.Notification": (
        _WHEN + " (the subject is a template's words and the time)",
        frozenset({"id", "appointment", "kind", "channel", "key", "subject", "status", "attempts", "created_at"})
        | {"sent_at"},
    ),
    # Issue 24.3 and 24.6: a note's text is marked personal (desk.models.Note); who wrote it and when are staff's.
    "desk.Note": (
        "keys, the staff member who wrote it and when",
        frozenset({"id", "appointment", "author", "created_at"}),
    ),
    "desk.CalendarFeed": (
        _STAFF + " (a staff member's feed: the digest of its secret)",
        frozenset({"id", "user", "digest", "created_at"}),
    ),
    "privacy.Erasure": (
        "the erasure's own record: when, why, who, the rows it changed",
        frozenset({"id", "appointment", "erased_at", "reason", "erased_by", "counts"}),
    ),
    "privacy.AccessRequest": (
        "who asked for a person's data and when (what they searched for is not kept)",
        frozenset({"id", "kind", "appointment", "found", "asked_by", "asked_at", "door"}),
    ),
    "privacy.LegalHold": (
        "the hold's dates and who placed and lifted it",
        frozenset({"id", "appointment", "until", "placed_at", "placed_by", "lifted_at", "lifted_by"}),
    ),
    "worker.WorkerBeat": (
        "the task worker's leases",
        frozenset({"worker_id", "queue_name", "process", "started_at", "seen_at", "task_id"}),
    ),
    "django_tasks_database.DBTaskResult": (
        "the queue's bookkeeping",
        frozenset({"id", "status", "enqueued_at", "started_at", "finished_at", "priority", "task_path"})
        | frozenset({"worker_ids", "queue_name", "backend_name", "run_after", "exception_class_path"}),
    ),
}
# A history row's own columns (simple-history's): which version, when, what kind of change, which staff member.
HISTORY_OWN = frozenset({"history_id", "history_date", "history_type", "history_user"})


def unmarked(model: type[models.Model]) -> list[str]:
    """The columns of `model` neither marked personal nor reviewed as not personal: each needs a decision."""
    tracked = tracked_of(model)
    if tracked is not None:
        decided = {field.name for field in tracked._meta.concrete_fields} | HISTORY_OWN
    else:
        decided = set(NOT_PERSONAL.get(model._meta.label, ("", frozenset()))[1])
    marked = {field.name for field, _ in personal_fields(model)}
    return [f.name for f in model._meta.concrete_fields if f.name not in decided | marked]
