"""Users and groups keep their SCIM attributes in one document (`data`), exactly as
stored and returned; the columns beside it mirror what filters, indexes and lists need.

Existing rows get their document from the columns they had; `emails` and
`name.formatted` now live in the document only. New mirrored columns: title, department,
employeeNumber and the manager's id.
"""

import django.db.models.deletion
from django.db import migrations, models

ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def without_empty(values: dict) -> dict:
    return {key: value for key, value in values.items() if value not in ("", None, [], {})}


def build_documents(apps, schema_editor):
    ScimUser = apps.get_model("scim_app", "ScimUser")
    ScimGroup = apps.get_model("scim_app", "ScimGroup")
    for user in ScimUser.objects.iterator():
        name = without_empty(
            {
                "givenName": user.given_name,
                "familyName": user.family_name,
                "formatted": user.formatted_name,
            }
        )
        user.data = without_empty(
            {
                "externalId": user.external_id,
                "userName": user.user_name,
                "name": name,
                "displayName": user.display_name,
                "emails": user.emails,
                "active": user.active,
            }
        )
        user.save(update_fields=["data"])
    for group in ScimGroup.objects.iterator():
        group.data = without_empty(
            {"externalId": group.external_id, "displayName": group.display_name}
        )
        group.save(update_fields=["data"])


def restore_columns(apps, schema_editor):
    ScimUser = apps.get_model("scim_app", "ScimUser")
    for user in ScimUser.objects.iterator():
        user.emails = user.data.get("emails", [])
        user.formatted_name = user.data.get("name", {}).get("formatted", "")
        user.save(update_fields=["emails", "formatted_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("scim_app", "0005_log_credential"),
    ]

    operations = [
        migrations.AddField(
            model_name="scimuser",
            name="data",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="scimgroup",
            name="data",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(build_documents, restore_columns),
        migrations.RemoveField(model_name="scimuser", name="emails"),
        migrations.RemoveField(model_name="scimuser", name="formatted_name"),
        migrations.AddField(
            model_name="scimuser",
            name="title",
            field=models.CharField(blank=True, max_length=255, verbose_name="title"),
        ),
        migrations.AddField(
            model_name="scimuser",
            name="department",
            field=models.CharField(blank=True, max_length=255, verbose_name="department"),
        ),
        migrations.AddField(
            model_name="scimuser",
            name="employee_number",
            field=models.CharField(blank=True, max_length=255, verbose_name="employeeNumber"),
        ),
        migrations.AddField(
            model_name="scimuser",
            name="manager",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="reports",
                to="scim_app.scimuser",
            ),
        ),
    ]
