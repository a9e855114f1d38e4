"""Soft delete with retention for users and groups (uniqueness among live rows only),
the held deletes of hold mode, and a provisioning log that keeps the client's address,
the body size, what each request changed and who, for actions by people."""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scim_app', '0006_resource_documents'),
        ('sites', '0005_deprovisioning_guard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='scimgroup',
            name='scim_group_display_name_unique_per_site',
        ),
        migrations.RemoveConstraint(
            model_name='scimuser',
            name='scim_user_username_unique_per_site',
        ),
        migrations.AddField(
            model_name='provisioninglogentry',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='provisioninglogentry',
            name='changes',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='provisioninglogentry',
            name='client_address',
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='provisioninglogentry',
            name='request_size',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='scimgroup',
            name='deleted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='scimuser',
            name='delete_held_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='scimuser',
            name='deleted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='scimgroup',
            index=models.Index(models.F('site'), django.db.models.functions.text.Lower('display_name'), condition=models.Q(('deleted_at__isnull', False)), name='scim_group_deleted_name'),
        ),
        migrations.AddIndex(
            model_name='scimgroup',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['deleted_at'], name='scim_group_deleted_at'),
        ),
        migrations.AddIndex(
            model_name='scimuser',
            index=models.Index(models.F('site'), django.db.models.functions.text.Lower('user_name'), condition=models.Q(('deleted_at__isnull', False)), name='scim_user_deleted_user_name'),
        ),
        migrations.AddIndex(
            model_name='scimuser',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['deleted_at'], name='scim_user_deleted_at'),
        ),
        migrations.AddConstraint(
            model_name='scimgroup',
            constraint=models.UniqueConstraint(models.F('site'), django.db.models.functions.text.Lower('display_name'), condition=models.Q(('deleted_at__isnull', True)), name='scim_group_display_name_unique_per_site'),
        ),
        migrations.AddConstraint(
            model_name='scimuser',
            constraint=models.UniqueConstraint(models.F('site'), django.db.models.functions.text.Lower('user_name'), condition=models.Q(('deleted_at__isnull', True)), name='scim_user_username_unique_per_site'),
        ),
    ]
