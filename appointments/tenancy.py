"""Tenancy, stated once: who sees which departments, and so which of their rows (appointments.models' querysets,
the tally's, config.prepared's VisibleTo through `sees_all`). Importable from appointments.models as before."""

from __future__ import annotations

from typing import Any, Self, TypeVar

from django.db import models


def sees_every_department(user: Any) -> bool:
    """Tenancy's one branch, stated once: a superuser, or no user (the services, the commands), sees every
    department and so every appointment; anyone else only their memberships'. Both querysets' `sees_all` and
    `visible_to` ask it, `visible_department_ids` too, and so does config.prepared's VisibleTo (through `sees_all`)."""
    return user is None or bool(user.is_superuser)


def visible_department_ids(user: Any) -> models.QuerySet[Any, Any]:
    """The ids of the departments `user` may see, as a subquery (a superuser's: every department's): a member's read
    from their memberships alone, with no join to the departments, which every appointment read scoped by it would
    plan again (issue 26.2: 0.1 ms of a change's lock)."""
    from appointments.models import Department  # the model is declared after this module is imported

    if sees_every_department(user):
        return Department.objects.values("pk")
    return Department.members.through._default_manager.filter(user=user).values("department_id")


_M = TypeVar("_M", bound=models.Model)


class InDepartmentsQuerySet(models.QuerySet[_M]):
    """Rows that belong to a department (a `department` key): tenancy as the appointments have it."""

    def sees_all(self, user: Any) -> bool:
        return sees_every_department(user)

    def visible_to(self, user: Any) -> Self:
        """Tenancy: a caller sees only its departments' rows (a superuser sees all)."""
        if sees_every_department(user):
            return self
        return self.filter(department__in=visible_department_ids(user))
