"""Request bodies checked by serializers that are built once per thread.

A DRF serializer builds its fields on every instance: it deep-copies its declared fields and binds each to
itself, about 0.4 ms for the appointment's PATCH body before it checks anything (a third of the API's own time
on a PATCH). The fields hold nothing about the data they check, so one instance per serializer, thread and set
of options can check body after body: `validated` gives it the new body and forgets the last one's results.
Per thread, because a field knows its serializer (`parent`) and a serializer its last body; the instance must be
used (its `validated_data` read) before the thread checks another body with the same serializer.
"""

import threading
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from rest_framework.serializers import Serializer, ValidationError

S = TypeVar("S", bound=Serializer)
_RESULTS = ("_validated_data", "_errors", "_data")
_local = threading.local()


def validated(serializer_class: type[S], data: Any, **options: Any) -> S:
    """`serializer_class(data=data, **options)`, valid (or ValidationError raised), from this thread's pool."""
    pool: dict[Any, Any] = _local.__dict__.setdefault("serializers", {})
    key = (serializer_class, tuple(sorted(options.items())))
    serializer = pool.get(key)
    if serializer is None:
        serializer = pool[key] = serializer_class(data=data, **options)
    else:
        serializer.initial_data = data
        for name in _RESULTS:
            serializer.__dict__.pop(name, None)
    serializer.is_valid(raise_exception=True)
    return serializer


def refuse_only_unknown(data: Any, known: Collection[str], path: str = "") -> None:
    """A body (or nested object) none of whose keys is known is a 422 naming each key.

    The contract ignores unknown keys, so a client may send back what it read, and that stays: a body with at least
    one known key ignores the rest. But a body with none changed nothing and answered 200, which hid a misspelt
    field or JSON sent as a form (read as one key of JSON text) from the client that sent it.
    """
    if not isinstance(data, Mapping) or not data or not set(known).isdisjoint(data.keys()):
        return
    errors = {}
    for key in data:
        message = f"The {path}{key} field is unknown."
        if str(key).lstrip().startswith(("{", "[")):
            message += " Send a JSON body with Content-Type: application/json."
        errors[str(key)] = [message]
    raise ValidationError(errors)
