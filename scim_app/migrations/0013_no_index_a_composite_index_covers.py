"""Foreign keys whose own index repeats the first column of a composite index (issue 16):
each such index cost every insert of its table one more index entry, a SCIM request's
log row two. Only the indexes go; the constraints stay as they are (Django's AlterField
would drop and re-add them, re-checking every row of the log while it blocks writes)."""

import django.db.models.deletion
from django.db import migrations, models


# Their names as Django made them, the same on PostgreSQL and SQLite.
DROPPED = [
    ("scim_app_membership_group_id_7e032de6", "scim_app_membership", "group_id"),
    ("scim_app_provisioninglogentry_site_id_d183d370", "scim_app_provisioninglogentry", "site_id"),
    ("scim_app_scimgroup_site_id_5288e606", "scim_app_scimgroup", "site_id"),
    ("scim_app_scimuser_site_id_101e1951", "scim_app_scimuser", "site_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('scim_app', '0012_log_longer_credential_hint'),
        ('sites', '0010_site_has_deleted_resources'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='membership',
                    name='group',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='scim_app.scimgroup'),
                ),
                migrations.AlterField(
                    model_name='provisioninglogentry',
                    name='site',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='provisioning_log', to='sites.site'),
                ),
                migrations.AlterField(
                    model_name='scimgroup',
                    name='site',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='scim_groups', to='sites.site'),
                ),
                migrations.AlterField(
                    model_name='scimuser',
                    name='site',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='scim_users', to='sites.site'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX {index} ON {table} ({column})",
                )
                for index, table, column in DROPPED
            ],
        ),
    ]
