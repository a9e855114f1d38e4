"""E-mail alerts: the last one of each kind sent about a site, so each goes at most once a day."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sites', '0008_team'),
    ]

    operations = [
        migrations.CreateModel(
            name='SiteAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('failing', 'Provisioning failing'), ('expiring', 'Credential expiring')], max_length=20)),
                ('sent_at', models.DateTimeField()),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='sites.site')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('site', 'kind'), name='sites_sitealert_one_per_kind')],
            },
        ),
    ]
