"""The provisioning log names token requests that authenticate with a signed assertion."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scim_app', '0010_log_oauth_credentials'),
    ]

    operations = [
        migrations.AlterField(
            model_name='provisioninglogentry',
            name='credential_kind',
            field=models.CharField(blank=True, choices=[('scim_token', 'Secret Token'), ('api_key', 'API key'), ('client_secret', 'OAuth client secret'), ('access_token', 'OAuth access token'), ('federation_trust', 'Federation trust')], max_length=20),
        ),
    ]
