"""Helpers for the admin tests: clients for Root and Sam, log rows made directly, and a
query count per page."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scim_app.models import ProvisioningLogEntry


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


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
