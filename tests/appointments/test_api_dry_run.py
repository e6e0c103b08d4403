"""`?dry_run=true` on PATCH, the original's POST `?_method=PATCH` and cancel (issue 20.4): the same status, body,
errors and If-Match handling as the real call, what the change would cause beside `data`, and nothing written: no
INSERT, UPDATE or DELETE (nor a row lock) among the statements, no row anywhere, the ETag unchanged."""

import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from appointments.models import Appointment, Status
from events.models import Event
from meetings.models import Participant, Role
from notifications.models import Notification, NotificationStatus
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory
from tests.helpers import data_item, postgres_only, rewrite, run_tasks, snapshot, walk_to
from tests.helpers import patch_url as url

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b", re.IGNORECASE)
Door = Callable[..., Any]  # (api, appointment, body, query, **headers) -> the response


def patch(api: APIClient, appointment: Appointment, body: dict[str, Any], query: str = "", **headers: Any) -> Any:
    return api.patch(url(appointment, query), body, format="json", **headers)


def override(api: APIClient, appointment: Appointment, body: dict[str, Any], query: str = "", **headers: Any) -> Any:
    """The original's POST `?_method=PATCH` with a multipart form (flat bodies only)."""
    return api.post(url(appointment, "?_method=PATCH" + query.replace("?", "&")), body, format="multipart", **headers)


def cancel(api: APIClient, appointment: Appointment, body: dict[str, Any], query: str = "", **headers: Any) -> Any:
    return api.post(f"/api/v1/appointments/{appointment.pk}/cancel{query}", body, format="json", **headers)


def stored(appointment: Appointment) -> dict[str, Any]:
    """Every row count in the database, and every value of the appointment, its parts and its participants."""
    counts = {model._meta.label: model._default_manager.count() for model in apps.get_models()}
    people = list(Participant.objects.filter(appointment=appointment).order_by("pk").values())
    return {"counts": counts, "appointment": snapshot(appointment), "participants": people}


def dry(
    door: Door, api: APIClient, appointment: Appointment, body: dict[str, Any], **headers: str
) -> tuple[Any, list[str]]:
    """The dry run's answer, and the statements it issued that write or lock (none, ever); the database after it
    exactly as before. The token's last use is due to be written (stale), so a dry run that wrote it would show."""
    ApiToken.objects.update(last_used_at=None)
    before = stored(appointment)
    with CaptureQueriesContext(connection) as queries:
        response = door(api, appointment, body, "?dry_run=true", **headers)
    written = [q["sql"] for q in queries if WRITE.match(q["sql"]) or "FOR UPDATE" in q["sql"].upper()]
    assert stored(appointment) == before
    assert set(ApiToken.objects.values_list("last_used_at", flat=True)) == {None}
    return response, written


def recorded_since(appointment: Appointment, first_id: int) -> list[str]:
    return list(
        Event.objects.filter(appointment=appointment, sequence__gt=first_id)
        .order_by("sequence")
        .values_list("type", flat=True)
    )


def last_sequence() -> int:
    return Event.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def messages_sent(appointment: Appointment, earlier: set[Any]) -> dict[str, Counter[str]]:
    """The claimant's messages that went (or will, at their time) for the change, beside the `earlier` ones: run
    the queue, the reminders too, up to the appointment's start (before any check the meeting's end schedules)."""
    run_tasks(until=Appointment.objects.get(pk=appointment.pk).appointment_at - timedelta(minutes=1))
    sent: dict[str, Counter[str]] = {}
    notes = Notification.objects.filter(appointment=appointment).exclude(pk__in=earlier)
    for channel, kind in notes.exclude(status=NotificationStatus.NOT_CONFIGURED).values_list("channel", "kind"):
        sent.setdefault(channel, Counter())[kind] += 1
    return sent


@pytest.fixture(autouse=True)
def _sms(settings: Any) -> None:
    settings.SMS_BACKEND = "notifications.sms.MemoryBackend"


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def second_department(agent: Any) -> Any:
    target = DepartmentFactory.create(name="Second")
    target.members.add(agent.user)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type="string", required=True)
    ClaimantDataFieldFactory.create(department=target, name="Policy", type="string", required=False, position=5)
    return target


CHANGES: list[tuple[str, Door, Callable[[Appointment, Any], dict[str, Any]]]] = [
    ("reschedule", patch, lambda a, _: {"appointment_at": (a.appointment_at + timedelta(days=1)).isoformat()}),
    ("reschedule by override", override, lambda a, _: {"duration_in_minutes": "45"}),
    (
        "claimant and data",
        patch,
        lambda a, _: {
            "claimant": {"name": "Ada King", "data": [{"id": str(data_item(a, "Case number").pk), "value": "CASE-2"}]}
        },
    ),
    ("interpreter", patch, lambda a, _: {"is_interpreter_needed": True, "interpreter_language": "Welsh"}),
    ("cancel by PATCH", patch, lambda a, _: {"status": "cancelled", "cancellation_reason": "Asked"}),
    ("cancel", cancel, lambda a, _: {"cancellation_reason": "Asked"}),
    ("nothing", patch, lambda a, _: {}),
    ("department", patch, lambda a, agent: {"department_id": str(second_department(agent).pk)}),
]


@pytest.mark.parametrize(("door", "body"), [(door, body) for _name, door, body in CHANGES], ids=[c[0] for c in CHANGES])
def test_a_dry_run_answers_as_the_change_and_writes_nothing(api, agent, appointment, frozen, door, body) -> None:
    run_tasks(until=appointment.appointment_at - timedelta(minutes=1))  # the booking's messages, reminders too
    request = body(appointment, agent)
    etag = api.get(url(appointment))["ETag"]
    tried, written = dry(door, api, appointment, request)
    assert written == []
    assert tried.status_code == 200, tried.json()
    assert tried["Dry-Run"] == "true"
    assert tried["ETag"] == etag == api.get(url(appointment))["ETag"]  # the appointment's, unchanged

    first, earlier = last_sequence(), set(Notification.objects.values_list("pk", flat=True))
    made = door(api, appointment, request, "")
    assert made.status_code == 200
    assert "Dry-Run" not in made
    assert set(made.json()) == {"data"}
    foreseen = tried.json()
    if request.get("department_id"):  # the data item the move adds draws its id when it is written
        for shown in (foreseen["data"], made.json()["data"]):
            for item in shown["claimant"]["data"]:
                item["id"] = "drawn" if item["name"] == "Policy" else item["id"]
    assert foreseen["data"] == made.json()["data"]
    assert foreseen["dry_run"]["events"] == recorded_since(appointment, first)
    expected = {channel: sorted(kinds.elements()) for channel, kinds in messages_sent(appointment, earlier).items()}
    assert {channel: sorted(kinds) for channel, kinds in foreseen["dry_run"]["messages"].items()} == expected
    interpreters = Participant.objects.filter(appointment=appointment, role=Role.INTERPRETER)
    assert foreseen["dry_run"]["join_links_renewed"] is interpreters.exists()


def test_what_a_reschedule_would_cause_in_words(api, appointment, frozen) -> None:
    later = (appointment.appointment_at + timedelta(days=1)).isoformat()
    tried, _written = dry(patch, api, appointment, {"appointment_at": later})
    # The department's reminders (24 and 1 hours before, by default) come with the move's message, on each channel.
    assert tried.json()["dry_run"] == {
        "events": ["appointment.updated", "appointment.rescheduled"],
        "messages": {"email": ["rescheduled", "reminder", "reminder"], "sms": ["rescheduled", "reminder", "reminder"]},
        "join_links_renewed": False,
    }


def soon(department: Any, **values: Any) -> Appointment:
    """An appointment in two hours (the persona's token lasts a day, the clock goes to the appointment's time)."""
    from tests.factories import make_appointment

    claimant = {"name": "Ada Lovelace", "email": "ada@example.com", "data": {"Case number": "CASE-1"}}
    return make_appointment(department, appointment_at=timezone.now() + timedelta(hours=2), claimant=claimant, **values)


def test_starting_the_session_would_admit_the_waiting_claimant(api, agent, department) -> None:
    appointment = soon(department)
    walk_to(appointment, Status.WAITING, agent.user)
    with time_machine.travel(appointment.appointment_at, tick=False):
        tried, written = dry(patch, api, appointment, {"status": "in_progress"})
        assert written == []
        first = last_sequence()
        made = patch(api, appointment, {"status": "in_progress"})
        assert made.status_code == 200, made.json()
        assert made.json()["data"] == tried.json()["data"]
    assert tried.json()["dry_run"]["events"] == recorded_since(appointment, first)
    assert "participant.admitted" in tried.json()["dry_run"]["events"]


def test_dropping_the_interpreter_in_the_waiting_room_would_record_their_leaving_first(api, agent, department) -> None:
    from meetings.devices import participant_record_device_check
    from meetings.services import consent_required, participant_record_consent
    from meetings.services.journey import participant_join
    from tests.factories import a_browser

    appointment = soon(department, is_interpreter_needed=True, interpreter_language="Welsh")
    interpreter = Participant.objects.get(appointment=appointment, role=Role.INTERPRETER)
    browser = a_browser()
    with time_machine.travel(appointment.appointment_at - timedelta(minutes=5), tick=False):
        participant_record_device_check(
            participant=interpreter, results={"camera": True, "microphone": True}, browser=browser
        )
        if consent_required(interpreter):
            participant_record_consent(participant=interpreter, consent=True, browser=browser)
        participant_join(participant=interpreter, browser=browser)
        tried, written = dry(patch, api, appointment, {"is_interpreter_needed": False})
        assert written == []
        first = last_sequence()
        assert patch(api, appointment, {"is_interpreter_needed": False}).status_code == 200
    assert tried.json()["dry_run"]["events"][0] == "participant.left"
    assert tried.json()["dry_run"]["events"] == recorded_since(appointment, first)
    assert tried.json()["dry_run"]["join_links_renewed"] is False


# --- errors: the real call's, and nothing written ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("door", "body", "key"),
    [
        (patch, {"duration_in_minutes": 2}, "duration_in_minutes"),
        (override, {"status": "completed"}, "status"),
        (patch, {"claimant": {"name": ""}}, "claimant.name"),
        (cancel, {"cancellation_reason": "x" * 2001}, "cancellation_reason"),
    ],
)
def test_a_refused_dry_run_is_refused_as_the_change(api, appointment, door, body, key) -> None:
    tried, written = dry(door, api, appointment, body)
    assert written == []
    made = door(api, appointment, body, "")
    assert (tried.status_code, tried.json()) == (made.status_code, made.json()) == (422, made.json())
    assert key in made.json()["errors"]
    assert tried["Dry-Run"] == "true"


def test_cancelling_a_cancelled_appointment_is_refused_alike(api, agent, appointment) -> None:
    walk_to(appointment, Status.CANCELLED, agent.user)
    tried, written = dry(cancel, api, appointment, {})
    assert written == []
    made = cancel(api, appointment, {}, "")
    assert (tried.status_code, tried.json()) == (422, made.json())


@pytest.mark.parametrize("door", [patch, override, cancel])
def test_another_departments_appointment_is_the_same_404(api, other_department, door) -> None:
    from tests.factories import make_appointment

    theirs = make_appointment(other_department)
    tried, written = dry(door, api, theirs, {"duration_in_minutes": "45"})
    assert written == []
    assert tried.status_code == 404
    assert tried.json() == door(api, theirs, {"duration_in_minutes": "45"}, "").json() == api.get(url(theirs)).json()


def test_if_match_is_handled_as_the_change_handles_it(api, appointment) -> None:
    etag = api.get(url(appointment))["ETag"]
    stale = '"0000"'
    tried, written = dry(patch, api, appointment, {"duration_in_minutes": 45}, HTTP_IF_MATCH=stale)
    assert written == []
    assert (tried.status_code, tried.json()) == (
        412,
        patch(api, appointment, {"duration_in_minutes": 45}, "", HTTP_IF_MATCH=stale).json(),
    )
    tried, written = dry(patch, api, appointment, {"duration_in_minutes": 45}, HTTP_IF_MATCH=etag)
    assert (tried.status_code, written) == (200, [])
    # The dry run's ETag is the appointment's as it is: the change made with it in If-Match goes through.
    made = api.patch(url(appointment), {"duration_in_minutes": 45}, format="json", HTTP_IF_MATCH=tried["ETag"])
    assert made.status_code == 200
    assert made.json()["data"] == tried.json()["data"]


@pytest.mark.parametrize("query", ["?dry_run=yes", "?dry_run=", "?dry_run=TRUE", "?dry_run=true&dry_run=true"])
@pytest.mark.parametrize("door", [patch, override, cancel])
def test_a_value_that_is_not_a_boolean_is_a_422_and_changes_nothing(api, appointment, door, query) -> None:
    before = stored(appointment)
    response = door(api, appointment, {"duration_in_minutes": "45"}, query)
    assert response.status_code == 422
    assert response.json() == {
        "message": "The dry run field must be true or false.",
        "errors": {"dry_run": ["The dry run field must be true or false."]},
    }
    assert stored(appointment) == before


@pytest.mark.parametrize("query", ["?dry_run=false", "?dry_run=0"])
def test_dry_run_false_makes_the_change(api, appointment, query) -> None:
    response = patch(api, appointment, {"duration_in_minutes": 45}, query)
    assert response.status_code == 200
    assert "Dry-Run" not in response
    assert set(response.json()) == {"data"}
    appointment.refresh_from_db()
    assert appointment.duration_in_minutes == 45


# --- the database refuses a dry run's writes ----------------------------------------------------------------------


@postgres_only
def test_a_dry_runs_transaction_is_read_only_and_leaves_its_callers_writable(appointment) -> None:
    from config.transactions import read_only

    with pytest.raises(DatabaseError, match="read-only transaction"), read_only():
        Appointment.objects.filter(pk=appointment.pk).update(duration_in_minutes=45)
    assert not transaction.get_connection().needs_rollback
    rewrite(Appointment.objects.filter(pk=appointment.pk), duration_in_minutes=50)  # the test's transaction writes
    appointment.refresh_from_db()
    assert appointment.duration_in_minutes == 50
