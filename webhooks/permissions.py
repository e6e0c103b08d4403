"""Who may manage webhook endpoints: one permission, checked the same way by the API and the back office.

Endpoints send claimants' names, dates of birth and private links out of the service, and their secrets sign what
receivers trust, so managing them (listing, reading, creating, changing, deleting, their deliveries, test pings,
secrets) is a manager's, never every department member's: an agent's token may not.
"""

from typing import Any

# Declared on Endpoint.Meta.permissions; the Department managers group has it (accounts.groups).
MANAGE_ENDPOINTS = "webhooks.manage_endpoint"


def may_manage_endpoints(user: Any) -> bool:
    """An active user with the permission (a superuser has them all). Which endpoints is tenancy's question:
    the user's departments (`Department.objects.visible_to`)."""
    return bool(user is not None and user.is_active and user.has_perm(MANAGE_ENDPOINTS))
