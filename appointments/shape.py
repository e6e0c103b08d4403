"""The Appointment as the API shows it (the contract's Appointment), declared once (issue 19.2).

`AppointmentShown` is the representation's type and its one declaration: each key in the answer's order, its type,
and where its value comes from (a `Column`: a path from Appointment as `values_list` reads it, and how a value is
written). Everything else that knows the shape derives from it, by name:
- `COLUMNS`, what the fast representation reads (appointments.representation) and the benchmark's floor selects
  (bench/floor.py), and `build`, which makes the representation from one row of them;
- the schema serializer's `fields` and the keys it leaves out where unset (AppointmentSerializer);
- the tests' expected keys; tests/appointments/test_shape.py checks it against the contract's list in
  docs/contract.md and every Appointment column against it (shown, or in UNSHOWN with a reason).

A key marked `NotRequired` is additive (beyond the original's example): absent where its value is null, so every
answer without it keeps its bytes. A null is shown as null; only other values go through a column's formatter.
Adding a field: docs/adding-a-field.md.
"""

# No `from __future__ import annotations`: the TypedDicts are read at import time, and Python 3.11 cannot tell a
# NotRequired key from a string annotation (__optional_keys__ comes out empty).

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter, itemgetter
from typing import Annotated, Any, NamedTuple, NotRequired, TypedDict, cast, get_args, get_origin, get_type_hints

from django.conf import settings

from config.api.fields import milliseconds, seconds


@dataclass(frozen=True)
class Column:
    """Where a key's value comes from: `path`, from the shape's model as `values_list` reads it (the key itself when
    left out), and `shown`, how a value that is not null is written (as read when left out)."""

    path: str = ""
    shown: Callable[[Any], Any] | None = None


class _DataItems:
    """The claimant's data items: read apart from the appointment's row (another query, or a JSON array in it)."""


DATA_ITEMS = _DataItems()


def _claimant_url(public_token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/join/{public_token}"


class ItemShown(TypedDict):
    """A claimant data item; paths from ClaimantData."""

    id: Annotated[str, Column(shown=str)]
    value: Annotated[str | None, Column()]
    name: Annotated[str, Column("field__name")]
    type: Annotated[str, Column("field__type")]
    required: Annotated[bool, Column("field__required")]


class DepartmentShown(TypedDict):
    id: Annotated[str, Column("department_id", str)]
    name: Annotated[str, Column("department__name")]


class ClaimantShown(TypedDict):
    name: Annotated[str | None, Column("claimant__name")]  # null only once erased
    phone_number: Annotated[str | None, Column("claimant__phone_number")]
    email: Annotated[str | None, Column("claimant__email")]
    date_of_birth: Annotated[str | None, Column("claimant__date_of_birth", date.isoformat)]
    data: Annotated[list[ItemShown], DATA_ITEMS]
    # Additive (issue 22.1): set only once the claimant, the API or staff chose it.
    preferred_language: NotRequired[Annotated[str, Column("claimant__preferred_language")]]
    # Additive (issue 21.2): set only once the claimant's personal data was erased.
    erased_at: NotRequired[Annotated[str, Column("claimant__erased_at", milliseconds)]]


class MeetingShown(TypedDict):
    id: Annotated[int, Column("meeting__id")]
    room_name: Annotated[str, Column("meeting__room_name")]
    room_url: Annotated[str, Column("meeting__room_url")]
    start_date: Annotated[str, Column("meeting__start_date", seconds)]
    end_date: Annotated[str, Column("meeting__end_date", seconds)]


class AppointmentShown(TypedDict):
    """The representation, key for key in the answer's order (the original's example, then additive keys)."""

    id: Annotated[str, Column(shown=str)]
    reference: Annotated[str, Column()]
    appointment_at: Annotated[str, Column(shown=milliseconds)]
    duration_in_minutes: Annotated[int, Column()]
    is_interpreter_needed: Annotated[bool, Column()]
    interpreter_language: Annotated[str | None, Column()]
    status: Annotated[str, Column()]
    url: Annotated[str, Column("public_token", _claimant_url)]
    created_at: Annotated[str, Column(shown=milliseconds)]
    cancelled_at: Annotated[str | None, Column(shown=milliseconds)]
    cancellation_reason: Annotated[str | None, Column()]
    department: DepartmentShown
    claimant: ClaimantShown
    meeting: MeetingShown
    session_started_at: Annotated[str | None, Column(shown=milliseconds)]
    session_ended_at: Annotated[str | None, Column(shown=milliseconds)]
    features_call_recording_enable: Annotated[bool, Column()]
    features_breakout_room_enable: Annotated[bool, Column()]
    features_webcam_access_agent_enable: Annotated[bool, Column()]
    features_webcam_access_claimant_enable: Annotated[bool, Column()]
    features_webcam_background_blurring_enable: Annotated[bool, Column()]
    features_microphone_access_enable: Annotated[bool, Column()]
    features_screen_sharing_enable: Annotated[bool, Column()]
    features_messages_chat_enable: Annotated[bool, Column()]
    features_participant_list_enable: Annotated[bool, Column()]
    features_bandwidth: Annotated[str, Column()]
    use_custom_post_call_redirect: Annotated[bool, Column()]
    custom_user_post_call_redirect_url: Annotated[str | None, Column()]
    custom_agent_post_call_redirect_url: Annotated[str | None, Column()]
    # Additive (issue 17.2): set only on an appointment missed by the organisation.
    outcome: NotRequired[Annotated[str, Column()]]


# Appointment columns the representation does not show, and why; every other column is a Column above (a test holds
# each column to one or the other).
UNSHOWN = {
    "agent_id": "the agent is listed with the participants (issue 17.9), not in the original's representation",
    "updated_at": "not in the original's representation; the ETag tells a client that it changed",
    "followed_up_at": "the organisation's own record of following up a missed appointment (issue 17.2)",
    "followed_up_by_id": "the organisation's own record of following up a missed appointment (issue 17.2)",
    "buffer_before_minutes": "the department's buffer the agent's time was taken with (issue 23.3), not the client's",
    "buffer_after_minutes": "the department's buffer the agent's time was taken with (issue 23.3), not the client's",
}


class _Step(NamedTuple):
    key: str
    at: int | None  # the column's place in the row; None: the data items
    shown: Callable[[Any], Any] | None
    additive: bool
    inner: tuple["_Step", ...] | None  # a nested object's keys


def _plan(shape: type, columns: list[str]) -> tuple[_Step, ...]:
    """The steps that build `shape` from a row, adding each column it reads to `columns` (once, in key order)."""
    steps = []
    for key, hint in get_type_hints(shape, include_extras=True).items():
        additive = get_origin(hint) is NotRequired
        if additive:
            (hint,) = get_args(hint)
        if get_origin(hint) is not Annotated:  # a nested object, itself a TypedDict
            steps.append(_Step(key, None, None, additive, _plan(hint, columns)))
            continue
        source = hint.__metadata__[0]
        if source is DATA_ITEMS:
            steps.append(_Step(key, None, None, additive, None))
            continue
        assert isinstance(source, Column), f"{shape.__name__}.{key}: annotate with a Column"
        path = source.path or key
        if path not in columns:
            columns.append(path)
        steps.append(_Step(key, columns.index(path), source.shown, additive, None))
    return tuple(steps)


def _fill(steps: tuple[_Step, ...], row: Sequence[Any], items: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, at, write, additive, inner in steps:
        if inner is not None:
            shown[key] = _fill(inner, row, items)
            continue
        value = items if at is None else row[at]
        if value is None:
            if additive:
                continue
        elif write is not None:
            value = write(value)
        shown[key] = value
    return shown


_COLUMNS: list[str] = []
_STEPS = _plan(AppointmentShown, _COLUMNS)
# The columns the representation reads, as `values_list` paths from Appointment, in the order `build` takes them.
COLUMNS = tuple(_COLUMNS)
# The keys of the answer in their order, and those absent where unset.
KEYS = tuple(step.key for step in _STEPS)
ADDITIVE = frozenset(step.key for step in _STEPS if step.additive)

_ITEM_COLUMNS: list[str] = []
_ITEM_STEPS = _plan(ItemShown, _ITEM_COLUMNS)
# A data item's columns, as paths from ClaimantData, and the keys it is shown with (the same order).
ITEM_COLUMNS = tuple(_ITEM_COLUMNS)
ITEM_KEYS = tuple(step.key for step in _ITEM_STEPS)


def build(row: Sequence[Any], items: list[ItemShown]) -> AppointmentShown:
    """The representation from a row that starts with COLUMNS (more may follow), with the claimant's data items."""
    return cast(AppointmentShown, _fill(_STEPS, row, items))


def item(row: Sequence[Any]) -> ItemShown:
    """A data item as shown, from a row of ITEM_COLUMNS."""
    return cast(ItemShown, _fill(_ITEM_STEPS, row, None))


# The same rows read from instances: an appointment with its department, claimant and meeting loaded, and a data
# item with its field.
row_of = attrgetter(*(path.replace("__", ".") for path in COLUMNS))
item_row_of = attrgetter(*(path.replace("__", ".") for path in ITEM_COLUMNS))
# A data item's row from a JSON object keyed by its columns (PostgreSQL's array of them in the appointment's row).
item_row_from_json = itemgetter(*ITEM_COLUMNS)
