"""What else a staff member's leaving ends, provided by the apps that hold it (issue 25.3).

accounts.services.user_deactivate ends the sessions, the API tokens and the join as agent itself; anything an app
holds for a user beyond those (the staff calendar feed of issue 24, when it lands) registers a function here from its
`AppConfig.ready()`, by name, and is ended in the same step. A function takes the user and returns how many things
it ended (for the operator's summary). A leaf of config, so an app below accounts can register without importing it
(docs/layout.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from config.registry import Registry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# name (what is ended, e.g. "calendar feeds") -> the function that ends it for a user, in the deactivation's
# transaction.
on_leaving: Registry[Callable[[User], int]] = Registry()
