"""The ledger: one tamper-evident entry for everything that happens to an appointment (issue 20).

Public functions (ledger.services):
- `record(appointment, happenings, actor=...)`: write the appointment's next entries (`Happening(type, data,
  personal)`), in the caller's transaction and under its lock on the appointment; the channel comes from
  ledger.context (the request's address, the worker, or a command); `record_each({appointment_id: happenings})`
  the same for several appointments in two statements (the webhook worker's batch).
- `entries_of(appointment_id)`: the appointment's entries, oldest first; `Entry.personal_values` their personal
  values ({} once erased).
- `verify(appointment_id=None)`: the first entry whose chain does not verify (a `Break`), or None;
  `manage.py verify_ledger [--appointment ID]` runs it.
- `erase_personal(appointment_id)`: empty the personal part of the appointment's entries; the chain still verifies.
- `lock_appointment(appointment_id)`: the appointment's row lock, for a writer that does not hold it yet;
  `about(participant)`: an entry's data naming a participant (id and role).

The canonical form and the hashes: ledger.chain. The daily digest of every chain's head: ledger.digest.
"""
