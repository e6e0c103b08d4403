"""Departments, appointments and the API tokens that reach them.

The status lifecycle is data next to its choices (`TRANSITIONS`), so it can be read and tested without a
database; the invariants the database can hold (durations, the stamps that go with each status, the
interpreter and redirect rules) are check constraints, so no write path can break them.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Prefetch, Q
from simple_history.models import HistoricalRecords

# Declared in modules of their own, and importable from here as before (migrations name some by this path).
from appointments.availability import Buffered  # and Django learns of the booking rules and hours there
from appointments.contact import Bilingual, Contact, organisation_contact, welsh_of, welsh_without_english
from appointments.features import FEATURE_FIELDS, Bandwidth, FeatureSettings
from appointments.idempotency_key import IdempotencyKey as IdempotencyKey
from appointments.indexes import APPOINTMENT_INDEXES
from appointments.search import matching
from appointments.tenancy import InDepartmentsQuerySet, sees_every_department
from appointments.tenancy import visible_department_ids as visible_department_ids
from appointments.validators import DEFAULT_TIME_ZONE, time_zone_choices, validate_http_url, validate_reminder_hours
from appointments.validators import reminder_hours as reminder_hours
from claimants.models import Claimant, ClaimantData, ClaimantDataField
from claimants.services import normalise_phone_number
from config.languages import BILINGUAL_HELP, LANGUAGE_HELP
from config.local_time import local_label
from config.personal import Category, Erase, personal

if TYPE_CHECKING:
    from appointments.shape import AppointmentShown
    from meetings.models import Meeting

MIN_DURATION = 5
MAX_DURATION = 480


class Status(models.TextChoices):
    SCHEDULED = "scheduled"
    WAITING = "waiting"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SCHEDULED: frozenset({Status.WAITING, Status.IN_PROGRESS, Status.CANCELLED, Status.NO_SHOW}),
    Status.WAITING: frozenset({Status.SCHEDULED, Status.IN_PROGRESS, Status.CANCELLED, Status.NO_SHOW}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}
FINAL_STATUSES = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
LIVE_STATUSES = frozenset(TRANSITIONS) - FINAL_STATUSES  # not over yet: an agent's time is taken, a link works


class Outcome(models.TextChoices):
    """How a final appointment ended, where its status alone does not say (issue 17.2). Carried by `cancelled`
    (a status every integration of the original knows) and shown as the additive `outcome` key."""

    MISSED_BY_ORGANISATION = "missed_by_organisation", "Missed by the organisation"


# The reason a missed appointment is cancelled with (the representation's `cancellation_reason`).
MISSED_REASON = "Missed by the organisation: the claimant came to the waiting room and the session was not started."
# appointment_at and duration_in_minutes may change only before the session starts.
RESCHEDULABLE_STATUSES = frozenset({Status.SCHEDULED, Status.WAITING})


def can_transition(current: str, target: str) -> bool:
    """Whether the lifecycle allows `current -> target`; setting the current status again is not a transition."""
    return target in TRANSITIONS.get(current, frozenset())


class DepartmentQuerySet(models.QuerySet["Department"]):
    def sees_all(self, user: Any) -> bool:
        return sees_every_department(user)

    def visible_to(self, user: Any) -> DepartmentQuerySet:
        """Tenancy, in one place: the departments a user may see and use (all for a superuser, otherwise the
        user's memberships). The API, the admin and the services all scope through this."""
        if sees_every_department(user):
            return self
        return self.filter(pk__in=visible_department_ids(user))


class Department(FeatureSettings):
    """A unit of an organisation: its members (agents and API users) reach only its appointments.

    Its feature settings are the defaults of the appointments created in it.
    """

    # Not a column: its claimant data fields in their order, when read with it (appointments.selectors.
    # departments_for_create, in the same statement), so that a create does not read them again.
    data_fields_read: list[ClaimantDataField] | None = None

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    name_cy = welsh_of("name", 200, example="Tîm Hawliadau")  # the name on Welsh pages and in Welsh messages
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="departments", blank=True)
    # The back office shows and takes this department's times in this zone (the API stays in UTC).
    time_zone = models.CharField(
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        choices=time_zone_choices,
        help_text="Times in the back office are shown and entered in this zone, labelled (10:30 BST).",
    )
    # Hours before an appointment at which its claimant is reminded, largest first; blank for none.
    reminder_hours = models.CharField(
        max_length=50,
        default="24,1",
        blank=True,
        validators=[validate_reminder_hours],
        help_text="Hours before the appointment to remind the claimant, comma-separated (24,1); blank for none.",
    )
    # How a claimant reaches the department (issue 17.8): shown on every page they see and in every message.
    contact_phone = models.CharField(
        "phone", max_length=32, blank=True, default="", help_text="Kept in E.164 (+442071234567); blank for none."
    )
    contact_email = models.EmailField("email", blank=True, default="")
    contact_hours = models.CharField(
        "opening hours", max_length=200, blank=True, default="", help_text="Monday to Friday, 9:00 to 17:00"
    )
    contact_help = models.CharField(
        "help text",
        max_length=300,
        blank=True,
        default="",
        help_text="A sentence for claimants who need help (have your case number ready when you call).",
    )
    # The two texts above in Welsh, for claimants reading Welsh (issue 22.1's journey; blank: the English is shown).
    contact_hours_cy = welsh_of("opening hours", 200, example="Dydd Llun i ddydd Gwener, 9:00 i 17:00", plural=True)
    contact_help_cy = welsh_of("help text", 300)
    # The claimant's language until they choose one (issue 22.1); bilingual: messages in Welsh then English.
    default_language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en", help_text=LANGUAGE_HELP)
    bilingual = models.BooleanField(default=False, help_text=BILINGUAL_HELP)
    # Days after an appointment ends until its claimant's data is erased (issue 21.1, appointments/retention.py).
    retention_days = models.PositiveIntegerField(
        "retention period (days)", null=True, blank=True, validators=[MinValueValidator(1)]
    )
    calendar_feed_shows_names = models.BooleanField("staff's calendar feeds show claimants' names", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(features_bandwidth__in=Bandwidth.values), name="department_bandwidth_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> Bilingual:
        """The name claimants read: the Welsh on Welsh pages and in Welsh messages when there is one."""
        return Bilingual(self.name, self.name_cy)

    def clean(self) -> None:
        super().clean()
        if self.contact_phone.strip():
            try:
                self.contact_phone = normalise_phone_number(self.contact_phone)
            except ValueError:
                raise ValidationError({"contact_phone": "Enter a valid phone number (+44 20 7123 4567)."}) from None
        else:
            self.contact_phone = ""
        if missing := welsh_without_english(self):  # English pages and messages show the English
            raise ValidationError(missing)

    @property
    def contact(self) -> Contact:
        """How a claimant reaches this department: its own details, else the organisation's (CONTACT_* settings),
        else none (the pages and messages then name the department and the message that gave the link)."""
        own = Contact.of_department(self)
        return own if own else organisation_contact(self.shown_name)


class HttpUrlField(models.URLField):
    """An absolute http(s) URL (Django's URLField also accepts ftp)."""

    default_validators = [validate_http_url]


def _public_token() -> str:
    return secrets.token_urlsafe(24)


class AppointmentQuerySet(InDepartmentsQuerySet["Appointment"]):
    def with_related(self) -> AppointmentQuerySet:
        """Everything the representation shows, in a constant number of queries whatever the data size."""
        return self.select_related("department", "claimant", "meeting").prefetch_related(
            Prefetch("claimant__data", queryset=ClaimantData.objects.select_related("field").order_by_field())
        )

    def search(self, text: str) -> AppointmentQuerySet:
        """Appointments whose reference, or claimant's name, email or phone, contains the text (appointments.search:
        the one search of the API's `q` and the back office's search box)."""
        return matching(self, text)


class Appointment(FeatureSettings, Buffered):
    """A remote video appointment between a department's agents and one claimant."""

    # Not columns: the representation a change's service built from the row it wrote, at its end and inside its
    # transaction, and its JSON text (config.api.rendering.api_json, rendered once); the events carry it and the API
    # answers with it and its ETag, nothing is read or rendered again.
    recorded_representation: AppointmentShown | None = None
    recorded_json: str | None = None

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="appointments")
    # The staff member who runs it (a member of its department), or nobody yet. Two live appointments of one agent
    # never overlap, buffers included: the service checks, on PostgreSQL an exclusion constraint too (0005, 0009).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_appointments",
    )
    reference = models.CharField(max_length=64)
    appointment_at = models.DateTimeField(db_index=True)
    duration_in_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_DURATION), MaxValueValidator(MAX_DURATION)]
    )
    is_interpreter_needed = models.BooleanField(default=False)
    interpreter_language = models.CharField(max_length=100, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    # The claimant's page is addressed by this secret, never by the reference, so it cannot be guessed.
    public_token = personal(
        models.CharField(max_length=64, unique=True, default=_public_token, editable=False),
        Category.IDENTIFIER,
        "the claimant's private link to their page",
        Erase.NEW_SECRET,
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = personal(
        models.TextField(null=True, blank=True, max_length=2000), Category.CASE_DATA, "why it was cancelled (free text)"
    )
    # Set only with `cancelled`; the representation shows it only when set.
    outcome = models.CharField(max_length=40, choices=Outcome.choices, null=True, blank=True, editable=False)
    # Who in the organisation followed a missed appointment up (called the claimant back), and when; until then the
    # back office lists it under "Needs attention". Not in the representation: the organisation's own record.
    followed_up_at = models.DateTimeField(null=True, blank=True, editable=False)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    session_started_at = models.DateTimeField(null=True, blank=True)
    session_ended_at = models.DateTimeField(null=True, blank=True)

    use_custom_post_call_redirect = models.BooleanField(default=False)
    custom_user_post_call_redirect_url = HttpUrlField(max_length=2000, null=True, blank=True)
    custom_agent_post_call_redirect_url = HttpUrlField(max_length=2000, null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()
    # Every change, with who made it: services write through config.history (docs/decisions.md, issue 19.3).
    history = HistoricalRecords(cascade_delete_history=False)

    if TYPE_CHECKING:
        claimant: Claimant
        meeting: Meeting
        department_id: uuid.UUID

    class Meta:
        ordering = ["appointment_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["department", "reference"], name="appointment_reference_unique_in_dept"),
            models.CheckConstraint(
                condition=Q(duration_in_minutes__gte=MIN_DURATION, duration_in_minutes__lte=MAX_DURATION),
                name="appointment_duration_range",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="appointment_status_valid"),
            models.CheckConstraint(
                condition=Q(features_bandwidth__in=Bandwidth.values), name="appointment_bandwidth_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_interpreter_needed=False, interpreter_language__isnull=True)
                | (Q(is_interpreter_needed=True, interpreter_language__isnull=False) & ~Q(interpreter_language="")),
                name="appointment_interpreter_language",
            ),
            models.CheckConstraint(
                condition=Q(use_custom_post_call_redirect=False)
                | Q(custom_user_post_call_redirect_url__isnull=False)
                | Q(custom_agent_post_call_redirect_url__isnull=False),
                name="appointment_custom_redirect_has_url",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=Status.CANCELLED) & Q(cancelled_at__isnull=True, cancellation_reason__isnull=True)),
                name="appointment_cancelled_stamp",
            ),
            models.CheckConstraint(
                condition=Q(outcome__isnull=True) | Q(status=Status.CANCELLED, outcome__in=Outcome.values),
                name="appointment_outcome_only_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(followed_up_at__isnull=True, followed_up_by__isnull=True)
                | Q(outcome__isnull=False, followed_up_at__isnull=False),
                name="appointment_followed_up_only_an_outcome",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[Status.IN_PROGRESS, Status.COMPLETED], session_started_at__isnull=False)
                | (~Q(status__in=[Status.IN_PROGRESS, Status.COMPLETED]) & Q(session_started_at__isnull=True)),
                name="appointment_session_started_stamp",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.COMPLETED, session_ended_at__isnull=False)
                | (~Q(status=Status.COMPLETED) & Q(session_ended_at__isnull=True)),
                name="appointment_session_ended_stamp",
            ),
        ]
        # The list's order within a department, to the id (its ids read from the index alone), and the status
        # filter's (issue 26.3).
        indexes = APPOINTMENT_INDEXES  # appointments.indexes: what each one serves

    def __str__(self) -> str:
        # What the back office's heading, breadcrumb and messages call it: its time in its department's zone.
        return f"{self.reference} ({local_label(self.appointment_at, self.zone)})"

    @property
    def zone(self) -> ZoneInfo:
        """The department's zone, in which the back office shows this appointment's times."""
        return ZoneInfo(self.department.time_zone)

    @property
    def url(self) -> str:
        """The claimant's own page for this appointment, on the service's public base URL."""
        return f"{settings.PUBLIC_BASE_URL}/join/{self.public_token}"

    @property
    def ends_at(self) -> datetime:
        return self.appointment_at + timedelta(minutes=self.duration_in_minutes)

    def can_transition_to(self, target: str) -> bool:
        return can_transition(self.status, target)


# The columns a client may write, declared once (issue 19.1): the API's write serializer (a foreign key under its
# `<name>_id` key), the service's whitelist (every one without a rule of its own is stored as given) and the back
# office's change form all derive their field lists from it, in this order (the PATCH body's). A column added here
# is written by every door; tests/appointments/test_writable_fields.py PATCHes and saves each one and reads it back.
WRITABLE_FIELDS: tuple[str, ...] = (
    "appointment_at",
    "duration_in_minutes",
    "department",
    "is_interpreter_needed",
    "interpreter_language",
    "status",
    "cancellation_reason",
    "agent",
    *FEATURE_FIELDS,
    "use_custom_post_call_redirect",
    "custom_user_post_call_redirect_url",
    "custom_agent_post_call_redirect_url",
)


def api_name(name: str) -> str:
    """The key a writable column has in the API's bodies: a foreign key's `<name>_id`, else its name."""
    column = Appointment._meta.get_field(name)
    assert isinstance(column, models.Field)
    return column.attname


# Declared in a module of its own (it uses this module's tenancy), importable from here; Django learns of it here.
from appointments.tally import AppointmentTally as AppointmentTally  # noqa: E402
