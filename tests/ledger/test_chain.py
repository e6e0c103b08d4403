"""The ledger's chain (issue 20.2): written in the change's transaction, verified by `verify_ledger`, tampering by
raw SQL caught and named, UPDATE and DELETE refused by the database, the personal part erasable."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from appointments.services import appointment_update
from ledger.chain import GENESIS
from ledger.models import Entry
from ledger.services import entries_of, erase_personal, verify
from tests.factories import make_appointment
from tests.helpers import data_item, run_command
from tests.helpers import patch_url as url

triggers_only_on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the ledger's triggers are PostgreSQL's: SQLite has none"
)


def _changed(api, appointment, n: int = 3) -> list[Entry]:
    """The appointment with a few entries: booked, then PATCHes of its phone number."""
    for number in ["+447911123457", "+447911123458", "+447911123459"][: n - 1]:
        assert api.patch(url(appointment), {"claimant": {"phone_number": number}}, format="json").status_code == 200
    return list(entries_of(appointment.pk))


def _raw(sql: str, params: list) -> None:
    """A statement as someone with the database's own rights would run it: the ledger's triggers off first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER USER")


def _verify_fails_naming(entry_id: int) -> str:
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger")
    assert failed.value.returncode == 1
    assert f"entry {entry_id} " in str(failed.value), str(failed.value)
    return str(failed.value)


def test_a_patch_writes_its_entries_chained_with_personal_values_apart(api, agent, appointment) -> None:
    before = data_item(appointment, "Case number").value
    item = {"id": str(data_item(appointment, "Case number").pk), "value": "CASE-2"}
    body = {"duration_in_minutes": 45, "claimant": {"phone_number": "+447911123457", "data": [item]}}
    assert api.patch(url(appointment), body, format="json").status_code == 200

    entries = list(entries_of(appointment.pk))
    assert [(e.sequence, e.type, e.channel) for e in entries] == [
        (1, "appointment.created", "command"),  # the fixture books through the service, as a command would
        (2, "appointment.updated", "api"),
        (3, "appointment.rescheduled", "api"),
    ]
    updated = entries[1]
    assert (updated.actor_type, updated.actor_id) == ("api_user", str(agent.user.pk))
    assert updated.data["changed_fields"] == ["duration_in_minutes", "claimant.phone_number", "claimant.data"]
    assert updated.data["changes"] == {"duration_in_minutes": {"old": appointment.duration_in_minutes, "new": 45}}
    item_id = data_item(appointment, "Case number").pk
    assert updated.personal_values["changes"] == {
        "claimant.phone_number": {"old": "+447911123456", "new": "+447911123457"},
        f"claimant.data.{item_id}": {"old": before, "new": "CASE-2"},
    }
    assert updated.personal_values["actor_name"]
    # Nothing personal in the hashed part.
    assert "+447911123457" not in str(updated.data)
    assert "CASE-2" not in str(updated.data)
    assert entries[0].previous_hash == GENESIS
    assert [e.previous_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert verify() is None
    assert run_command("verify_ledger", "--appointment", str(appointment.pk)) == ["The ledger verifies: 3 entries."]


def test_a_change_rolled_back_leaves_no_entry(department, appointment) -> None:
    before = Entry.objects.count()
    inside = []

    def change_then_fail() -> None:
        with transaction.atomic():
            appointment_update(appointment=appointment, data={"duration_in_minutes": 50}, actor=None)
            inside.append(Entry.objects.count())
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert inside == [before + 2]  # updated, rescheduled: written, then rolled back with the change
    assert Entry.objects.count() == before


def test_an_unchanged_patch_writes_no_entry(api, appointment) -> None:
    before = Entry.objects.count()
    response = api.patch(url(appointment), {"duration_in_minutes": appointment.duration_in_minutes}, format="json")
    assert response.status_code == 200
    assert Entry.objects.count() == before


def test_chains_are_per_appointment(api, department, appointment) -> None:
    other = make_appointment(department)
    _changed(api, appointment)
    assert [e.sequence for e in entries_of(other.pk)] == [1]
    assert entries_of(other.pk).get().previous_hash == GENESIS


def test_an_edited_entry_is_named(api, appointment) -> None:
    entries = _changed(api, appointment)
    _raw("UPDATE ledger_entry SET data = %s WHERE id = %s", ['{"changed_fields": ["status"]}', entries[1].id])
    assert "edited" in _verify_fails_naming(entries[1].id)


def test_an_edited_time_is_named(api, appointment) -> None:
    entries = _changed(api, appointment)
    _raw("UPDATE ledger_entry SET occurred_at = occurred_at - interval '1 hour' WHERE id = %s"
         if connection.vendor == "postgresql" else "UPDATE ledger_entry SET occurred_at = '2020-01-01 00:00:00' "
         "WHERE id = %s", [entries[2].id])  # fmt: skip
    _verify_fails_naming(entries[2].id)


def test_a_deleted_entry_is_named_at_the_one_after_it(api, appointment) -> None:
    entries = _changed(api, appointment)
    _raw("DELETE FROM ledger_entry WHERE id = %s", [entries[1].id])
    assert "missing" in _verify_fails_naming(entries[2].id)


def test_an_entry_inserted_out_of_order_is_named(api, appointment) -> None:
    entries = _changed(api, appointment)
    # Room made after the first entry, and a copy of the last one put there.
    last = entries[-1]
    _raw("UPDATE ledger_entry SET sequence = sequence + 10 WHERE appointment_id = %s AND sequence > 1",
         [appointment.pk.hex if connection.vendor != "postgresql" else appointment.pk])  # fmt: skip
    _raw(
        "INSERT INTO ledger_entry (appointment_id, sequence, occurred_at, actor_type, actor_id, channel, type, data,"
        " personal_digest, previous_hash, hash) SELECT appointment_id, 2, occurred_at, actor_type, actor_id,"
        " channel, type, data, personal_digest, previous_hash, hash FROM ledger_entry WHERE id = %s",
        [last.id],
    )
    inserted = Entry.objects.get(appointment_id=appointment.pk, sequence=2)
    _verify_fails_naming(inserted.id)


def test_reordered_entries_are_named(api, appointment) -> None:
    entries = _changed(api, appointment)
    first, second = entries[1], entries[2]
    _raw("UPDATE ledger_entry SET sequence = 99 WHERE id = %s", [first.id])
    _raw("UPDATE ledger_entry SET sequence = %s WHERE id = %s", [first.sequence, second.id])
    _raw("UPDATE ledger_entry SET sequence = %s WHERE id = %s", [second.sequence, first.id])
    _verify_fails_naming(second.id)


def test_an_edited_personal_part_is_named(api, appointment) -> None:
    entries = _changed(api, appointment)
    tampered = {**(entries[1].personal or {}), "values": {"actor_name": "Somebody else"}}
    _raw("UPDATE ledger_entry SET personal = %s WHERE id = %s", [json.dumps(tampered), entries[1].id])
    assert "personal" in _verify_fails_naming(entries[1].id)


def test_erasing_the_personal_part_leaves_every_chain_verifiable(api, appointment) -> None:
    entries = _changed(api, appointment)
    assert entries[1].personal_values
    assert erase_personal(appointment.pk) == sum(1 for e in entries if e.personal is not None)
    assert all(e.personal is None and e.personal_values == {} for e in entries_of(appointment.pk))
    assert [e.hash for e in entries_of(appointment.pk)] == [e.hash for e in entries]
    assert verify() is None
    assert run_command("verify_ledger") == [f"The ledger verifies: {Entry.objects.count()} entries."]


@triggers_only_on_postgresql
def test_the_database_refuses_to_update_or_delete_an_entry(api, appointment) -> None:
    entries = _changed(api, appointment)
    for statement in (
        "UPDATE ledger_entry SET type = 'appointment.cancelled' WHERE id = %s",
        "UPDATE ledger_entry SET personal = '{}'::jsonb WHERE id = %s",
        "DELETE FROM ledger_entry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="Cannot"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entries[1].id])
    with pytest.raises(DatabaseError, match="Cannot"), transaction.atomic():
        Entry.objects.filter(pk=entries[1].pk).delete()
    # Erasing the personal part is the one change let through.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET personal = NULL WHERE id = %s", [entries[1].id])
    assert Entry.objects.get(pk=entries[1].pk).personal is None
    assert verify() is None


def test_verify_ledger_refuses_an_appointment_that_is_no_id() -> None:
    with pytest.raises(CommandError, match="UUID"):
        call_command("verify_ledger", "--appointment", "'; DROP TABLE ledger_entry; --")
