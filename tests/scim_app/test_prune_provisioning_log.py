"""`manage.py prune_provisioning_log`: keeps the last N days of the log."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scim_app.models import ProvisioningLogEntry


def log_entries(site, days_ago: int, count: int) -> None:
    created = timezone.now() - timedelta(days=days_ago)
    ProvisioningLogEntry.objects.bulk_create(
        ProvisioningLogEntry(
            created=created,
            site=site,
            method="GET",
            path="/api/v2/scim/Users",
            status=200,
            duration_ms=3,
            summary="list Users → 0 results",
        )
        for _ in range(count)
    )


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_provisioning_log", *args, stdout=out)
    return out.getvalue()


def test_it_deletes_entries_older_than_30_days_in_batches_and_says_how_many(contoso):
    log_entries(contoso, days_ago=45, count=7)
    log_entries(contoso, days_ago=10, count=3)

    with CaptureQueriesContext(connection) as queries:
        output = prune("--batch-size", "2")

    assert output == "Deleted 7 provisioning log entries older than 30 days.\n"
    assert ProvisioningLogEntry.objects.count() == 3
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 4  # 2 + 2 + 2 + 1 rows, never all 7 in one statement


def test_days_chooses_how_much_to_keep(contoso):
    log_entries(contoso, days_ago=45, count=2)
    log_entries(contoso, days_ago=10, count=3)
    log_entries(contoso, days_ago=0, count=1)

    assert prune("--days", "7") == "Deleted 5 provisioning log entries older than 7 days.\n"
    assert ProvisioningLogEntry.objects.count() == 1


def test_it_says_so_when_there_is_nothing_to_delete(db):
    assert prune() == "Deleted 0 provisioning log entries older than 30 days.\n"


@pytest.mark.parametrize("args", [("--days", "-1"), ("--batch-size", "0")])
def test_it_refuses_nonsense_arguments(db, args):
    with pytest.raises(CommandError):
        prune(*args)
