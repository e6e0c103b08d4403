"""Staff groups: Agents run appointments; Department managers also manage their departments, API tokens, webhook
endpoints and their claimants' personal data (erasure, export, legal holds).

Kept by a post_migrate handler, as Django keeps permissions: after every migrate (and every test flush) the
groups exist with exactly these permissions. A group's other permissions, added by hand, are left alone.
"""

from typing import Any

from privacy.permissions import MANAGE_PERSONAL_DATA
from webhooks.permissions import MANAGE_ENDPOINTS

AGENT = [
    "appointments.view_appointment",
    "appointments.change_appointment",
    "appointments.view_department",
    "claimants.view_claimant",
    "claimants.view_claimantdata",
    "claimants.view_claimantdatafield",
    "meetings.view_meeting",
    "notifications.view_notification",
]
MANAGER = [
    *AGENT,
    "appointments.change_department",
    "claimants.add_claimantdatafield",
    "claimants.change_claimantdatafield",
    "claimants.delete_claimantdatafield",
    *(
        f"appointments.{action}_{model}"
        for model in ("bookingrules", "workinghours", "hoursexception")
        for action in ("view", "add", "change", "delete")
    ),
    "accounts.view_apitoken",
    "accounts.add_apitoken",
    "accounts.change_apitoken",
    MANAGE_ENDPOINTS,
    MANAGE_PERSONAL_DATA,
]
GROUPS = {"Agents": AGENT, "Department managers": MANAGER}


def ensure_staff_groups(**kwargs: Any) -> None:
    """post_migrate receiver (runs after the apps' permissions were created)."""
    from django.contrib.auth.models import Group, Permission

    for name, codes in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [code.split(".") for code in codes]
        apps = {app for app, _ in wanted}
        permissions = Permission.objects.filter(content_type__app_label__in=apps).select_related("content_type")
        group.permissions.add(*[p for p in permissions if [p.content_type.app_label, p.codename] in wanted])
