"""The "Support" permission group: view-only access in the admin to provisioned data,
the provisioning log, sites, MSPs, staff and tokens (see createsupportuser)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"
VIEWABLE = {
    "scim_app": ["scimuser", "scimgroup", "membership", "provisioninglogentry"],
    "sites": ["msp", "site", "staff", "scimtoken", "tokenevent"],
}


def create_support_group(apps, schema_editor):
    # Permissions are normally created after `migrate` finishes; on a fresh database
    # they do not exist yet, so create them now.
    for label in VIEWABLE:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    for label, models in VIEWABLE.items():
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label=label,
                codename__in=[f"view_{model}" for model in models],
            )
        )


def delete_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sites", "0001_initial"),
        ("scim_app", "0002_provisioning_log"),
    ]

    operations = [migrations.RunPython(create_support_group, delete_support_group)]
