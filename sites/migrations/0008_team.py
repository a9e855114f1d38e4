"""The Team page: a public id for staff in its URLs, and the team's audit trail."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_staff_public_ids(apps, schema_editor):
    # A callable default is evaluated once for the rows that exist: each needs its own.
    Staff = apps.get_model("sites", "Staff")
    for staff in Staff.objects.only("pk"):
        Staff.objects.filter(pk=staff.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ('sites', '0007_federation_trusts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Django's recipe for a unique field on a table with rows: add it without the
        # constraint, give every row its own value, then make it unique.
        migrations.AddField(
            model_name='staff',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, null=True),
        ),
        migrations.RunPython(give_staff_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='staff',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.CreateModel(
            name='StaffEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('invited', 'Invited'), ('reinvited', 'New invitation link'), ('role_changed', 'Role changed'), ('removed', 'Removed')], max_length=20)),
                ('email', models.CharField(max_length=254)),
                ('old_role', models.CharField(blank=True, choices=[('admin', 'Admin'), ('read_only', 'Read-only')], max_length=20)),
                ('new_role', models.CharField(blank=True, choices=[('admin', 'Admin'), ('read_only', 'Read-only')], max_length=20)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('msp', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='staff_events', to='sites.msp')),
                ('subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['msp', '-at'], name='sites_staffevent_msp_at')],
            },
        ),
    ]
