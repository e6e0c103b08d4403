"""Staff groups: Agents run appointments; Department managers also manage their departments and API tokens."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

AGENT = [
    "appointments.view_appointment",
    "appointments.change_appointment",
    "appointments.view_department",
    "claimants.view_claimant",
    "claimants.view_claimantdata",
    "claimants.view_claimantdatafield",
    "meetings.view_meeting",
]
MANAGER = [
    *AGENT,
    "appointments.change_department",
    "claimants.add_claimantdatafield",
    "claimants.change_claimantdatafield",
    "claimants.delete_claimantdatafield",
    "appointments.view_apitoken",
    "appointments.add_apitoken",
    "appointments.change_apitoken",
]
GROUPS = {"Agents": AGENT, "Department managers": MANAGER}


def create_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after all migrations; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0004_appointment_history"),
        ("claimants", "0002_claimant_history"),
        ("meetings", "0002_meeting_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
