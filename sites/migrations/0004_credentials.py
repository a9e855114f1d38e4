"""One credentials family: Secret Tokens and API keys share a hashed-secret base (the
hash column is `secret_hash` in both, API keys may expire), and one audit trail,
CredentialEvent, records every kind; TokenEvent's rows move into it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_token_events(apps, schema_editor):
    TokenEvent = apps.get_model("sites", "TokenEvent")
    CredentialEvent = apps.get_model("sites", "CredentialEvent")
    CredentialEvent.objects.bulk_create(
        CredentialEvent(
            kind="scim_token",
            credential_id=event.token_id,
            msp_id=event.site.msp_id,
            site_id=event.site_id,
            action=event.action,
            actor_id=event.actor_id,
            via=event.via,
            hint=event.hint,
            at=event.at,
        )
        for event in TokenEvent.objects.select_related("site").iterator()
    )


def copy_back(apps, schema_editor):
    TokenEvent = apps.get_model("sites", "TokenEvent")
    CredentialEvent = apps.get_model("sites", "CredentialEvent")
    TokenEvent.objects.bulk_create(
        TokenEvent(
            token_id=event.credential_id,
            site_id=event.site_id,
            action=event.action,
            actor_id=event.actor_id,
            via=event.via,
            hint=event.hint,
            at=event.at,
        )
        for event in CredentialEvent.objects.filter(kind="scim_token").iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0003_support_views_api_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("scimtoken", "token_hash", "secret_hash"),
        migrations.RenameField("apikey", "key_hash", "secret_hash"),
        migrations.AddField(
            model_name="apikey",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="CredentialEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("scim_token", "Secret Token"), ("api_key", "API key")], max_length=20)),
                ("credential_id", models.PositiveBigIntegerField()),
                ("action", models.CharField(choices=[("issued", "Issued"), ("revoked", "Revoked")], max_length=10)),
                ("via", models.CharField(choices=[("console", "console"), ("api", "REST API"), ("admin", "admin"), ("command", "command")], max_length=20)),
                ("hint", models.CharField(max_length=8)),
                ("at", models.DateTimeField(auto_now_add=True)),
                ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("msp", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="credential_events", to="sites.msp")),
                ("site", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="credential_events", to="sites.site")),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["kind", "credential_id"], name="sites_credevent_credential")],
            },
        ),
        migrations.RunPython(copy_token_events, copy_back),
        migrations.DeleteModel(name="TokenEvent"),
    ]
