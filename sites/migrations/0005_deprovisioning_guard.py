"""A site can hold Entra's deletes, and remembers when a mass deprovisioning was noticed."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sites', '0004_credentials'),
    ]

    operations = [
        migrations.AddField(
            model_name='site',
            name='deprovisioning_alert_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='site',
            name='hold_deletes',
            field=models.BooleanField(default=False, verbose_name="hold Entra's deletes"),
        ),
    ]
