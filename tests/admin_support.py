"""Helpers for the admin tests: clients for Root and Sam, rows made directly, and a
query count per page."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scim_app.models import Membership, ProvisioningLogEntry, ScimGroup, ScimUser


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_user(site, user_name: str, **fields) -> ScimUser:
    local = user_name.split("@")[0]
    defaults = {
        "display_name": local.replace(".", " ").title(),
        "work_email": user_name,
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "external_id": f"ext-{local}",
    }
    return ScimUser.objects.create(site=site, user_name=user_name, **{**defaults, **fields})


def make_group(site, display_name: str, members=()) -> ScimGroup:
    group = ScimGroup.objects.create(site=site, display_name=display_name)
    Membership.objects.bulk_create(Membership(group=group, user=user) for user in members)
    return group


def make_log_entry(site, **fields) -> ProvisioningLogEntry:
    defaults = {
        "method": "GET",
        "path": "/api/v2/scim/Users",
        "status": 200,
        "duration_ms": 4,
        "summary": "list Users → 0 results",
    }
    return ProvisioningLogEntry.objects.create(site=site, **{**defaults, **fields})


def count_queries(client: Client, url: str) -> int:
    """How many SQL statements a page needs (SAVEPOINTs exist only because each test
    runs inside a transaction, so they do not count)."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return sum(
        not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        for q in context.captured_queries
    )
