"""The staff groups, kept by a post_migrate handler."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


class TestStaffGroups:
    def test_groups_exist_with_their_permissions_after_migrate(self, db) -> None:
        from django.contrib.auth.models import Group

        from accounts.groups import GROUPS

        for name, codes in GROUPS.items():
            group = Group.objects.get(name=name)
            permissions = group.permissions.select_related("content_type")
            held = {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
            assert held == set(codes)

    def test_running_migrate_again_keeps_them_and_hand_added_permissions(self, db) -> None:
        from django.contrib.auth.models import Group, Permission

        agents = Group.objects.get(name="Agents")
        extra = Permission.objects.get(codename="view_group")
        agents.permissions.add(extra)
        call_command("migrate", verbosity=0)
        assert Group.objects.filter(name="Agents").count() == 1
        assert agents.permissions.filter(pk=extra.pk).exists()
