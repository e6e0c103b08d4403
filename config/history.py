"""Who made a change, as django-simple-history records it.

An actor is a user (API token, back office) or None (a command). The public pages act as a participant, who is
no user: any object with a `history_label` is recorded as the change's reason instead ("claimant: Ada Lovelace"),
so the history still says who did it.
"""

from typing import Any


def history_user(actor: Any) -> Any:
    """The user to record, or None for a participant or a command."""
    return None if getattr(actor, "history_label", None) is not None else actor


def stamp(instance: Any, actor: Any) -> None:
    """Mark the next save of `instance` with who made it."""
    label = getattr(actor, "history_label", None)
    instance._history_user = history_user(actor)
    if label is not None:
        instance._change_reason = label
