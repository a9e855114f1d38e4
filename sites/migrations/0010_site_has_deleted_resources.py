from django.db import migrations, models


def mark_sites_with_deleted_resources(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    for name in ("ScimUser", "ScimGroup"):
        deleted = apps.get_model("scim_app", name).objects.filter(deleted_at__isnull=False)
        Site.objects.filter(pk__in=deleted.values("site_id")).update(has_deleted_resources=True)


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0009_site_alerts"),
        ("scim_app", "0012_log_longer_credential_hint"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="has_deleted_resources",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(mark_sites_with_deleted_resources, migrations.RunPython.noop),
    ]
