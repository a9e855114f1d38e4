"""The Support group may also view MSP API keys in the admin (by hint, never the hash)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"


def grant(apps, schema_editor):
    # On a fresh database permissions are created only after `migrate` finishes.
    app_config = apps.get_app_config("sites")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="sites", codename="view_apikey")
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="sites", codename="view_apikey")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0002_api_keys"),
        ("scim_app", "0003_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
