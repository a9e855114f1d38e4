from django.db import migrations, models


def fill_email_values(apps, schema_editor):
    ScimUser = apps.get_model("scim_app", "ScimUser")
    for user in ScimUser.objects.exclude(emails=[]).only("id", "emails").iterator():
        values = [str(e.get("value", "")).lower() for e in user.emails if isinstance(e, dict)]
        user.email_values = "\n" + "".join(v + "\n" for v in values) if values else ""
        user.save(update_fields=["email_values"])


class Migration(migrations.Migration):
    dependencies = [
        ("scim_app", "0003_support_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="scimuser",
            name="email_values",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_email_values, migrations.RunPython.noop),
    ]
