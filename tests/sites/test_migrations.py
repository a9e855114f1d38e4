"""Upgrades keep what the data already says: a migration that adds a marker fills it in."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sites", "0009_site_alerts"), ("scim_app", "0012_log_longer_credential_hint")]
AFTER = [("sites", "0010_site_has_deleted_resources")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_sites_that_deleted_users_or_groups_before_the_upgrade_still_revive_them():
    apps = migrate(BEFORE)
    msp = apps.get_model("sites", "MSP").objects.create(name="Northwind")
    Site = apps.get_model("sites", "Site")
    deleted_a_user, deleted_a_group, deleted_nothing = (
        Site.objects.create(msp=msp, name=name) for name in ("Contoso", "Fabrikam", "Tailspin")
    )
    now = timezone.now()
    ScimUser = apps.get_model("scim_app", "ScimUser")
    ScimUser.objects.create(site=deleted_a_user, user_name="gone", deleted_at=now)
    ScimUser.objects.create(site=deleted_nothing, user_name="here")
    apps.get_model("scim_app", "ScimGroup").objects.create(
        site=deleted_a_group, display_name="Old", deleted_at=now
    )

    try:
        apps = migrate(AFTER)
        marked = dict(
            apps.get_model("sites", "Site").objects.values_list("name", "has_deleted_resources")
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert marked == {"Contoso": True, "Fabrikam": True, "Tailspin": False}
