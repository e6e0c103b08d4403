"""What the organisation's identity provider says a staff member is, applied on every sign-in and re-check: the
groups (or roles) claim mapped by OIDC_GROUP_MAP to department memberships and the staff groups (accounts.groups).
The provider is the source of truth for a signed-on user: a mapped group they lost is a membership removed, and with
no mapped group left they have left the service: deactivated (accounts.services.user_deactivate: sessions, API tokens
and the rest end with it; a superuser reactivates them if the organisation brings them back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts.groups import GROUPS
from accounts.services import user_deactivate
from appointments.models import Department


@dataclass(frozen=True)
class Access:
    departments: frozenset[str]  # names
    groups: frozenset[str]  # of accounts.groups.GROUPS

    @property
    def any(self) -> bool:
        return bool(self.departments or self.groups)


def access_from_claims(claims: Mapping[str, Any]) -> Access:
    """The departments and staff groups the claims give, through OIDC_GROUP_MAP; values it does not name give
    nothing."""
    values = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    departments: set[str] = set()
    groups: set[str] = set()
    for value in values if isinstance(values, list) else []:
        mapped = settings.OIDC_GROUP_MAP.get(str(value), {})
        if mapped.get("department"):
            departments.add(mapped["department"])
        if mapped.get("group") in GROUPS:
            groups.add(mapped["group"])
    return Access(frozenset(departments), frozenset(groups))


def memberships_apply(*, user: User, claims: Mapping[str, Any]) -> Access:
    """Make the user's departments and staff groups what the claims give (other groups are left alone); staff
    while they give anything, deactivated (a leaver) when they give nothing. A superuser is never changed by a
    claim."""
    access = access_from_claims(claims)
    if user.is_superuser:
        return access
    with transaction.atomic():
        if not access.any and user.is_active:
            user_deactivate(user=user)
        user.departments.set(Department.objects.filter(name__in=access.departments))
        staff_groups = Group.objects.filter(name__in=list(GROUPS))
        user.groups.remove(*[g for g in staff_groups if g.name not in access.groups])
        user.groups.add(*[g for g in staff_groups if g.name in access.groups])
        if user.is_staff != access.any:
            user.is_staff = access.any
            user.save(update_fields=["is_staff"])
    return access
