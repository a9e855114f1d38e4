"""The provisioning log names the kind of credential behind each request beside its hint
(so far every known one was a Secret Token)."""

from django.db import migrations, models


def secret_tokens(apps, schema_editor):
    Entry = apps.get_model("scim_app", "ProvisioningLogEntry")
    Entry.objects.filter(credential_hint__startswith="…").update(credential_kind="scim_token")
    Entry.objects.filter(credential_hint="satscim_…").update(credential_kind="scim_token")


class Migration(migrations.Migration):
    dependencies = [
        ("scim_app", "0004_email_values"),
        ("sites", "0004_credentials"),
    ]

    operations = [
        migrations.RenameField("provisioninglogentry", "token_hint", "credential_hint"),
        migrations.AddField(
            model_name="provisioninglogentry",
            name="credential_kind",
            field=models.CharField(
                blank=True,
                choices=[("scim_token", "Secret Token"), ("api_key", "API key")],
                max_length=20,
            ),
        ),
        migrations.RunPython(secret_tokens, migrations.RunPython.noop),
    ]
