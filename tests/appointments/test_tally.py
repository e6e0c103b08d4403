"""AppointmentTally: the appointments' counts per department and status, kept by PostgreSQL's triggers in the
writer's transaction (issue 26.3), and the API list's `total` read from them when it filters by nothing but
tenancy, status and department. After every door that writes an appointment (the API, the services, a bulk update,
raw SQL, a rollback, TRUNCATE, twenty writers at once) the tally's sums equal a count of the rows; a writer never
waits on another for it; the migration's backfill starts from the rows."""

import functools
import importlib
import io
import threading
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, AppointmentTally, Status
from appointments.services import appointment_cancel
from claimants.models import FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, make_appointment
from tests.helpers import rewrite, run_together
from tests.support import persona

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the tally is kept by PostgreSQL's triggers; on SQLite the list counts its rows (tested everywhere else)",
)

TALLY_TABLE = AppointmentTally._meta.db_table
MIGRATION = importlib.import_module("appointments.migrations.0014_appointment_tally")


def counted() -> Counter[tuple[Any, str]]:
    """The appointments per department and status, counted from their rows."""
    return Counter(Appointment.objects.values_list("department_id", "status"))


def tallied() -> Counter[tuple[Any, str]]:
    """The same from the tally: the sum of each department's and status's rows (none where it is 0)."""
    sums = AppointmentTally.objects.values_list("department_id", "status").annotate(total=Sum("count")).order_by()
    return Counter({(department, status): total for department, status, total in sums if total})


def _copy_sql(source: Appointment, tag: str) -> tuple[str, list[Any]]:
    """An INSERT of a copy of `source` with its own id, reference and link: a write no service makes."""
    columns = [field.column for field in Appointment._meta.concrete_fields]
    fresh = {"id": "gen_random_uuid()", "reference": "reference || %s", "public_token": "md5(random()::text)"}
    values = ", ".join(fresh.get(column, column) for column in columns)
    into = ", ".join(columns)
    sql = f"INSERT INTO appointments_appointment ({into}) SELECT {values} FROM appointments_appointment WHERE id = %s"  # noqa: S608 (the model's own columns)
    return sql, [f"-{tag}", source.pk]


@pytest.mark.history_unchecked  # raw SQL writes the appointments, as no service does, to show the tally follows
def test_every_door_that_writes_an_appointment_keeps_the_tally(department, other_department, agent, api) -> None:
    made = [make_appointment(department if n % 3 else other_department) for n in range(6)]
    assert tallied() == counted() == Counter({(department.pk, "scheduled"): 4, (other_department.pk, "scheduled"): 2})

    appointment_cancel(appointment=made[1], reason="Gone", actor=None)  # a service
    response = api.post(f"/api/v1/appointments/{made[2].pk}/cancel", {}, format="json")  # the API
    assert response.status_code == 200
    target = DepartmentFactory.create(name="Target")  # collects what the first department does
    target.members.add(agent.user)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type=FieldType.STRING)
    moved = api.patch(f"/api/v1/appointments/{made[4].pk}", {"department_id": str(target.pk)}, format="json")
    assert moved.status_code == 200, moved.json()
    assert tallied() == counted()
    assert counted()[(department.pk, "cancelled")] == 2
    assert counted()[(target.pk, "scheduled")] == 1

    rewrite(Appointment.objects.filter(pk__in=[made[0].pk, made[5].pk]), status=Status.WAITING)  # a bulk update
    assert tallied() == counted()

    with connection.cursor() as cursor:
        cursor.execute(*_copy_sql(made[0], "copy"))  # raw SQL: an insert, a move, a delete
        cursor.execute(
            "UPDATE appointments_appointment SET department_id = %s WHERE reference = %s",
            [department.pk, f"{made[0].reference}-copy"],  # made[0] is the other department's
        )
        assert tallied() == counted()
        assert counted()[(department.pk, "waiting")] == 2  # made[5] and the copy
        cursor.execute("DELETE FROM appointments_appointment WHERE reference = %s", [f"{made[0].reference}-copy"])
    assert tallied() == counted()
    assert sum(tallied().values()) == Appointment.objects.count() == 6


def test_a_rolled_back_write_leaves_the_tally_as_it_was(department) -> None:
    make_appointment(department)
    before = tallied()
    seen_inside = None
    try:
        with transaction.atomic():
            make_appointment(department, reference="REF-UNDONE")
            seen_inside = tallied()[(department.pk, "scheduled")]
            raise RuntimeError("undone")
    except RuntimeError:
        pass
    assert seen_inside == 2  # the writer's transaction sees its own create counted
    assert tallied() == before == counted()


@pytest.mark.django_db(transaction=True)  # TRUNCATE refuses a table with this transaction's constraint checks pending
@pytest.mark.history_unchecked  # TRUNCATE empties the appointments without their history, as no service does
def test_truncate_empties_the_tally(department) -> None:
    make_appointment(department)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Appointment._meta.db_table} CASCADE")
    assert not AppointmentTally.objects.exists()
    assert tallied() == counted() == Counter()


def test_the_migration_starts_the_tally_from_the_rows_it_finds(department, other_department) -> None:
    for n in range(5):
        made = make_appointment(department if n % 2 else other_department)
    appointment_cancel(appointment=made, reason=None, actor=None)
    with connection.schema_editor() as editor:  # as before 0014 ran: no triggers, no tally
        MIGRATION.drop_triggers(None, editor)
        AppointmentTally.objects.all().delete()
        MIGRATION.add_triggers(None, editor)
    assert AppointmentTally.objects.count() == 3  # one row per department and status, from the rows
    assert (
        tallied()
        == counted()
        == Counter(
            {
                (department.pk, "scheduled"): 2,
                (other_department.pk, "scheduled"): 2,
                (other_department.pk, "cancelled"): 1,
            }
        )
    )
    make_appointment(department)  # and the triggers are there again
    assert tallied() == counted()


def _list(api: Any, query: str) -> tuple[dict[str, Any], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/appointments?{query}")
    assert response.status_code == 200
    return response.json(), [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("who", ["member", "superuser"])
def test_the_lists_total_is_read_from_the_tally_when_it_filters_only_by_status_and_department(
    department, other_department, who
) -> None:
    outside = DepartmentFactory.create(name="Outside")  # a member does not see it; a superuser does
    for n in range(7):
        made = make_appointment((department, other_department, outside)[n % 3])
    appointment_cancel(appointment=made, reason=None, actor=None)
    caller = persona(f"tally-{who}", department, other_department, superuser=who == "superuser").client()
    visible = Appointment.objects.all() if who == "superuser" else Appointment.objects.exclude(department=outside)
    for query, expected in (
        ("", visible),
        ("per_page=2&page=2&sort=-appointment_at", visible),
        ("status=scheduled,cancelled", visible.filter(status__in=["scheduled", "cancelled"])),
        ("status=cancelled", visible.filter(status="cancelled")),
        (f"department_id={department.pk}&status=scheduled", visible.filter(department=department, status="scheduled")),
        (f"department_id={outside.pk}", visible.filter(department=outside)),
    ):
        body, statements = _list(caller, query)
        assert body["meta"]["total"] == expected.count(), query
        assert sum(TALLY_TABLE in sql for sql in statements) == 1, query
        assert not any("COUNT(*)" in sql for sql in statements), query
        shown = expected.count() - (body["meta"]["current_page"] - 1) * body["meta"]["per_page"]
        assert len(body["data"]) == max(0, min(body["meta"]["per_page"], shown)), query
    # Any other filter counts its rows, as before.
    body, statements = _list(caller, "is_interpreter_needed=false&status=scheduled")
    assert body["meta"]["total"] == visible.filter(status="scheduled", is_interpreter_needed=False).count()
    assert not any(TALLY_TABLE in sql for sql in statements)
    assert sum("COUNT(*)" in sql for sql in statements) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.history_unchecked  # raw SQL inserts (see _copy_sql); the flush after the test empties everything
def test_a_writer_never_waits_on_another_for_the_tally(department) -> None:
    source = make_appointment(department)
    holding, release = threading.Event(), threading.Event()

    def hold_a_tally_row() -> None:  # a create in the department, its transaction left open
        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute(*_copy_sql(source, "held"))
            holding.set()
            release.wait(30)
        connections["default"].close()

    held = threading.Thread(target=hold_a_tally_row)
    held.start()
    try:
        assert holding.wait(30)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '100ms'")  # waiting on the held row would fail here
            cursor.execute(*_copy_sql(source, "beside"))
            cursor.execute(
                "SELECT count(*) FROM appointments_appointmenttally WHERE department_id = %s", [department.pk]
            )
            assert cursor.fetchone()[0] == 2  # the held row was skipped: this create added a row of its own
    finally:
        release.set()
        held.join(30)
    assert tallied() == counted() == Counter({(department.pk, "scheduled"): 3})


@pytest.mark.django_db(transaction=True)
@pytest.mark.history_unchecked  # raw SQL inserts (see _copy_sql); the flush after the test empties everything
def test_twenty_writers_at_once_are_all_counted(department) -> None:
    source = make_appointment(department)

    def create(n: int) -> None:
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute(*_copy_sql(source, f"race-{n}"))
                if n % 2:  # half of them change a status in the same transaction
                    cursor.execute(
                        "UPDATE appointments_appointment SET status = 'waiting' WHERE reference = %s",
                        [f"{source.reference}-race-{n}"],
                    )
        finally:
            connections["default"].close()

    run_together([functools.partial(create, n) for n in range(20)])
    assert tallied() == counted() == Counter({(department.pk, "scheduled"): 11, (department.pk, "waiting"): 10})


def test_the_operators_command_finds_a_drift_and_rebuilds_the_tally(department, other_department) -> None:
    make_appointment(department)
    make_appointment(other_department)
    call_command("appointment_tally", stdout=io.StringIO())  # equal: no error
    with connection.cursor() as cursor:  # a write that bypassed the triggers, as after a restore without them
        cursor.execute(
            "UPDATE appointments_appointmenttally SET count = count + 2 WHERE department_id = %s", [department.pk]
        )
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 count"):
        call_command("appointment_tally", stdout=out)
    assert f"Department {department.pk}, scheduled: counted 1, kept 3" in out.getvalue()
    assert tallied() != counted()

    out = io.StringIO()
    call_command("appointment_tally", "--rebuild", stdout=out)
    assert "2 department and status pair(s)" in out.getvalue()
    assert "The counts kept equal the appointments' rows." in out.getvalue()
    assert tallied() == counted()
    assert AppointmentTally.objects.count() == 2
