"""`emails[type eq "work"].value eq "..."` found a user by the first work address only:
a user with two work addresses was not found by the second. The indexed column keeps
the first; this flag marks the few users with more, whose others a filter then reads
from the document. Existing rows get the flag from their document."""

from django.db import migrations, models


def flag_users_with_more_work_emails(apps, schema_editor):
    ScimUser = apps.get_model("scim_app", "ScimUser")
    with_emails = ScimUser.objects.exclude(email_values="").only("id", "data")
    flagged = [
        user.id
        for user in with_emails.iterator(chunk_size=2000)
        if sum(
            str(email.get("type", "")).lower() == "work"
            for email in user.data.get("emails", [])
        )
        > 1
    ]
    ScimUser.objects.filter(id__in=flagged).update(more_work_emails=True)


class Migration(migrations.Migration):

    dependencies = [
        ('scim_app', '0013_no_index_a_composite_index_covers'),
        ('sites', '0010_site_has_deleted_resources'),
    ]

    operations = [
        migrations.AddField(
            model_name='scimuser',
            name='more_work_emails',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddIndex(
            model_name='scimuser',
            index=models.Index(condition=models.Q(('more_work_emails', True)), fields=['site'], name='scim_user_more_work_emails'),
        ),
        migrations.RunPython(flag_users_with_more_work_emails, migrations.RunPython.noop),
    ]
