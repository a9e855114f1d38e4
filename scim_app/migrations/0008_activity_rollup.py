"""The hourly activity rollup of the provisioning log (the console's charts), and an index for
the Users page sorted by last change."""


import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scim_app', '0007_soft_delete_and_history'),
        ('sites', '0005_deprovisioning_guard'),
    ]

    operations = [
        migrations.CreateModel(
            name='ActivityHour',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('requests', models.PositiveIntegerField(default=0)),
                ('errors', models.PositiveIntegerField(default=0)),
                ('error_kinds', models.JSONField(blank=True, default=dict)),
            ],
        ),
        migrations.CreateModel(
            name='ActivityRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rolled_up_to', models.DateTimeField()),
            ],
        ),
        migrations.AddIndex(
            model_name='scimuser',
            index=models.Index(fields=['site', '-last_modified'], name='scim_user_site_modified'),
        ),
        migrations.AddField(
            model_name='activityhour',
            name='site',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='activity', to='sites.site'),
        ),
        migrations.AddConstraint(
            model_name='activityhour',
            constraint=models.UniqueConstraint(fields=('site', 'hour'), name='scim_activity_site_hour'),
        ),
    ]
