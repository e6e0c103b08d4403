"""Who acts, as one type: every service's `actor` is an `Actor`.

A staff user (the back office, or the API token's user), a participant acting from their own link (the public
pages: they are no user, and the history names them by their `history_label`), or None (a command, the worker:
the system). `request.user` is typed `User | AnonymousUser`; an anonymous user never reaches a service that
writes (the views ask for a signed-in user first), and is the system's None to the history if one did.
"""

from typing import Protocol, TypeAlias

from django.contrib.auth.models import AnonymousUser, User


class Participating(Protocol):
    """Someone acting from their own link: a participant, named in the history by this label."""

    @property
    def history_label(self) -> str: ...


Staff: TypeAlias = User | AnonymousUser
Actor: TypeAlias = Staff | Participating | None


def staff_of(actor: Actor) -> User | None:
    """The signed-in user behind an actor, or None for a participant, a command or an anonymous visitor."""
    return actor if isinstance(actor, User) else None
