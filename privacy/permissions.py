"""Who may erase a claimant's personal data, export it or place a legal hold (issue 21.7): one permission, checked
the same way by the API and the back office.

Erasure cannot be undone and an export hands over everything the service holds about a person, so these are a
manager's, never every department member's: an agent's token may not. Which appointments is tenancy's question.
"""

from typing import Any

# Declared on Erasure.Meta.permissions; the Department managers group has it (accounts.groups).
MANAGE_PERSONAL_DATA = "privacy.manage_personal_data"


def may_manage_personal_data(user: Any) -> bool:
    """An active user with the permission (a superuser has them all)."""
    return bool(user is not None and user.is_active and user.has_perm(MANAGE_PERSONAL_DATA))
