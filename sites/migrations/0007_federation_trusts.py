"""Workload identity federation: a site's trusts in Entra tenants, and access tokens minted
through one (an access token now comes from a client secret or a trust)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sites', '0006_oauth_client_credentials'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesstoken',
            name='secret',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='access_tokens', to='sites.clientsecret'),
        ),
        migrations.AlterField(
            model_name='credentialevent',
            name='kind',
            field=models.CharField(choices=[('scim_token', 'Secret Token'), ('api_key', 'API key'), ('client_secret', 'OAuth client secret'), ('access_token', 'OAuth access token'), ('federation_trust', 'Federation trust')], max_length=20),
        ),
        migrations.CreateModel(
            name='FederationTrust',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('issuer', models.CharField(max_length=300)),
                ('jwks_url', models.CharField(max_length=500, verbose_name='JWKS URL')),
                ('subject', models.CharField(max_length=200)),
                ('audience', models.CharField(max_length=300)),
                ('tenant_id', models.CharField(blank=True, help_text="Checked against the assertion's tid.", max_length=36, verbose_name='tenant ID')),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='federation_trusts', to='sites.oauthclient')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='federation_trusts', to='sites.site')),
            ],
            options={
                'verbose_name': 'federation trust',
                'ordering': ['-created_at'],
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='trust',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='access_tokens', to='sites.federationtrust'),
        ),
        migrations.AddConstraint(
            model_name='accesstoken',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('secret__isnull', False), ('trust__isnull', True)), models.Q(('secret__isnull', True), ('trust__isnull', False)), _connector='OR'), name='sites_accesstoken_secret_or_trust'),
        ),
        migrations.AddConstraint(
            model_name='federationtrust',
            constraint=models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('client', 'issuer', 'subject', 'audience'), name='sites_federationtrust_one_live_per_app'),
        ),
    ]
