"""Upgrades keep what the data already says: a migration that adds a marker fills it in."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.sites.test_migrations import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("scim_app", "0013_no_index_a_composite_index_covers")]
AFTER = [("scim_app", "0014_more_work_emails")]


def test_users_with_two_work_addresses_before_the_upgrade_are_found_by_either():
    apps = migrate(BEFORE)
    msp = apps.get_model("sites", "MSP").objects.create(name="Northwind")
    site = apps.get_model("sites", "Site").objects.create(msp=msp, name="Contoso")
    ScimUser = apps.get_model("scim_app", "ScimUser")
    addresses = {
        "two": [{"type": "work", "value": "a@x.example"}, {"type": "Work", "value": "b@x.example"}],
        "one": [{"type": "work", "value": "c@x.example"}, {"type": "home", "value": "d@x.example"}],
        "none": [],
    }
    for user_name, emails in addresses.items():
        ScimUser.objects.create(
            site=site,
            user_name=user_name,
            data={"userName": user_name, "emails": emails},
            email_values="".join(f"\n{e['value']}" for e in emails) + "\n" if emails else "",
        )

    try:
        apps = migrate(AFTER)
        flagged = dict(
            apps.get_model("scim_app", "ScimUser").objects.values_list(
                "user_name", "more_work_emails"
            )
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert flagged == {"two": True, "one": False, "none": False}
