"""OAuth 2.0 client credentials for Entra, beside the Secret Token: a site's OAuth client
(at most one not revoked), its client secrets and the access tokens minted with them; the
audit trail names the two new kinds."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import sites.models.credentials

KINDS = [
    ("scim_token", "Secret Token"),
    ("api_key", "API key"),
    ("client_secret", "OAuth client secret"),
    ("access_token", "OAuth access token"),
]


def hashed_secret_fields():
    """The columns every credential shares (sites.models.credentials.HashedSecret)."""
    return [
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("secret_hash", models.CharField(editable=False, max_length=64, unique=True)),
        ("hint", models.CharField(help_text="The secret's last characters, for display.", max_length=8)),
        ("created_at", models.DateTimeField(auto_now_add=True)),
        ("last_used_at", models.DateTimeField(blank=True, null=True)),
        ("revoked_at", models.DateTimeField(blank=True, null=True)),
        ("expires_at", models.DateTimeField()),
        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0005_deprovisioning_guard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="credentialevent",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=20),
        ),
        migrations.CreateModel(
            name="OAuthClient",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("client_id", models.CharField(default=sites.models.credentials.new_client_id, editable=False, max_length=40, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("site", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="oauth_clients", to="sites.site")),
            ],
            options={
                "verbose_name": "OAuth client",
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("revoked_at__isnull", True)), fields=("site",), name="sites_oauthclient_one_live_per_site"),
                ],
            },
        ),
        migrations.CreateModel(
            name="ClientSecret",
            fields=[
                *hashed_secret_fields(),
                ("client", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="secrets", to="sites.oauthclient")),
                ("site", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="client_secrets", to="sites.site")),
            ],
            options={
                "verbose_name": "OAuth client secret",
                "ordering": ["-created_at"],
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="AccessToken",
            fields=[
                *hashed_secret_fields(),
                ("secret", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="access_tokens", to="sites.clientsecret")),
                ("site", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="access_tokens", to="sites.site")),
            ],
            options={
                "verbose_name": "OAuth access token",
                "ordering": ["-created_at"],
                "abstract": False,
            },
        ),
    ]
