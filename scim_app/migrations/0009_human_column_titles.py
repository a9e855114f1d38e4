"""Column titles for people: "display name", "SCIM error type" (verbose names only)."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scim_app', '0008_activity_rollup'),
    ]

    operations = [
        migrations.AlterField(
            model_name='provisioninglogentry',
            name='scim_type',
            field=models.CharField(blank=True, max_length=40, verbose_name='SCIM error type'),
        ),
        migrations.AlterField(
            model_name='scimgroup',
            name='display_name',
            field=models.CharField(max_length=255, verbose_name='display name'),
        ),
        migrations.AlterField(
            model_name='scimgroup',
            name='external_id',
            field=models.CharField(blank=True, max_length=255, verbose_name='external id'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='display_name',
            field=models.CharField(blank=True, max_length=255, verbose_name='display name'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='employee_number',
            field=models.CharField(blank=True, max_length=255, verbose_name='employee number'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='external_id',
            field=models.CharField(blank=True, max_length=255, verbose_name='external id'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='family_name',
            field=models.CharField(blank=True, max_length=255, verbose_name='family name'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='given_name',
            field=models.CharField(blank=True, max_length=255, verbose_name='given name'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='user_name',
            field=models.CharField(max_length=320, verbose_name='user name'),
        ),
    ]
