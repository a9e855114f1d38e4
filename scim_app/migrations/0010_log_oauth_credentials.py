"""The provisioning log names the OAuth kinds too: requests with an access token, and
token requests with a client secret. Their hint, "satcli_…x1y2 / …ab12", fits the
column as it is."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scim_app", "0009_human_column_titles"),
        ("sites", "0006_oauth_client_credentials"),
    ]

    operations = [
        migrations.AlterField(
            model_name="provisioninglogentry",
            name="credential_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("scim_token", "Secret Token"),
                    ("api_key", "API key"),
                    ("client_secret", "OAuth client secret"),
                    ("access_token", "OAuth access token"),
                ],
                max_length=20,
            ),
        ),
    ]
