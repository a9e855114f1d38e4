"""A site's activity at a glance, from the provisioning log: requests and errors over the
last day, week and month, errors grouped by kind, and the latest requests.

Charts read the hourly rollup (ActivityHour), which housekeeping fills from the log once
an hour is over; the hours not rolled up yet (at most the last one or two) come from the
log itself, through its (site, created) index. Every figure costs a bounded number of
queries whatever the size of the site or the log.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    Expression,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, TruncHour
from django.utils import timezone

from sat_portal.queries import subquery_count
from scim_app.models import ActivityHour, ActivityRollup, ProvisioningLogEntry
from sites.models import Site

HOUR = timedelta(hours=1)
# Hours rolled up per housekeeping run, at most (a fresh install catches up over runs).
HOURS_PER_RUN = 48
WINDOWS = {"24h": (timedelta(hours=24), HOUR), "7d": (timedelta(days=7), 6 * HOUR),
           "30d": (timedelta(days=30), 24 * HOUR)}  # fmt: skip


def kind_of(status: int, scim_type: str) -> str:
    return f"{status} {scim_type}".strip()


def this_hour() -> datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def rolled_up_to() -> datetime | None:
    state = ActivityRollup.objects.first()
    return state.rolled_up_to if state else None


def rollup_job() -> bool:
    """Housekeeping: roll up the next completed hours of the log. True if more remain."""
    end = this_hour()
    start = rolled_up_to()
    if start is None:
        oldest = ProvisioningLogEntry.objects.order_by("created").values_list("created", flat=True)
        first = oldest.first()
        start = (first or end).replace(minute=0, second=0, microsecond=0)
    stop = min(end, start + HOURS_PER_RUN * HOUR)
    if start >= stop:
        return False
    rows = (
        ProvisioningLogEntry.objects.filter(
            created__gte=start, created__lt=stop, site__isnull=False
        )
        .annotate(hour=TruncHour("created"))
        .values("site", "hour", "status", "scim_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    hours: dict[tuple[int, datetime], ActivityHour] = {}
    for row in rows:
        key = (row["site"], row["hour"])
        if key not in hours:
            hours[key] = ActivityHour(site_id=row["site"], hour=row["hour"], error_kinds={})
        hour = hours[key]
        hour.requests += row["n"]
        if row["status"] >= 400:
            hour.errors += row["n"]
            kind = kind_of(row["status"], row["scim_type"])
            hour.error_kinds[kind] = hour.error_kinds.get(kind, 0) + row["n"]
    with transaction.atomic():
        ActivityHour.objects.bulk_create(
            hours.values(),
            update_conflicts=True,
            unique_fields=["site", "hour"],
            update_fields=["requests", "errors", "error_kinds"],
        )
        ActivityRollup.objects.update_or_create(pk=1, defaults={"rolled_up_to": stop})
    return stop < end


@dataclass
class Activity:
    """What the console shows of a site's provisioning activity."""

    window: str
    buckets: list[tuple[datetime, int, int]]  # start, requests, errors
    error_kinds: list[tuple[str, int]]  # over the last 24 hours, most frequent first
    recent: list[ProvisioningLogEntry] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(requests for _, requests, _ in self.buckets)

    @property
    def errors(self) -> int:
        return sum(errors for _, _, errors in self.buckets)

    @property
    def peak(self) -> int:
        return max((requests for _, requests, _ in self.buckets), default=0)


def hourly(site: Site, since: datetime) -> dict[datetime, tuple[int, int, Counter]]:
    """Requests, errors and error kinds per hour since `since`: rolled-up hours from the
    rollup, the rest from the log."""
    boundary = rolled_up_to() or since
    hours: dict[datetime, tuple[int, int, Counter]] = {}
    for row in ActivityHour.objects.filter(site=site, hour__gte=since, hour__lt=boundary):
        hours[row.hour] = (row.requests, row.errors, Counter(row.error_kinds))
    live = (
        ProvisioningLogEntry.objects.filter(site=site, created__gte=max(since, boundary))
        .annotate(hour=TruncHour("created"))
        .values("hour", "status", "scim_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in live:
        requests, errors, kinds = hours.get(row["hour"], (0, 0, Counter()))
        if row["status"] >= 400:
            errors += row["n"]
            kinds[kind_of(row["status"], row["scim_type"])] += row["n"]
        hours[row["hour"]] = (requests + row["n"], errors, kinds)
    return hours


def window_start(window: str) -> datetime:
    """Where a window starts: whole hours, the current one the last of them."""
    length, _ = WINDOWS.get(window, WINDOWS["24h"])
    return this_hour() + HOUR - length


def errors_column(since: datetime) -> Expression:
    """The outer query's site's errors since `since` (the start of an hour), as a column,
    split as `hourly()` splits it: the rolled-up hours from ActivityHour, the rest from
    the log. A site costs at most one rollup row per hour and the last hour or two of its
    log, however busy it is (the Sites list's "errors in the last 24 hours")."""
    rolled = Subquery(ActivityRollup.objects.values("rolled_up_to")[:1])
    boundary = Greatest(Coalesce(rolled, Value(since), output_field=DateTimeField()), Value(since))
    rolled_errors = (
        ActivityHour.objects.filter(site=OuterRef("pk"), hour__gte=since, hour__lt=boundary)
        .order_by()
        .values("site")
        .annotate(n=Sum("errors"))
        .values("n")
    )
    live = ProvisioningLogEntry.objects.filter(created__gte=boundary, status__gte=400)
    return Coalesce(
        Subquery(rolled_errors, output_field=IntegerField()), Value(0)
    ) + subquery_count(live, "site")


def activity(site: Site, window: str = "24h", recent: int = 20) -> Activity:
    length, bucket = WINDOWS.get(window, WINDOWS["24h"])
    since = window_start(window)
    now = since + length
    hours = hourly(site, since)
    buckets: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    starts = [since + i * bucket for i in range(int(length / bucket))]
    for hour, (requests, errors, _) in hours.items():
        start = since + ((hour - since) // bucket) * bucket
        buckets[start][0] += requests
        buckets[start][1] += errors
    day = now - timedelta(hours=24)
    kinds = sum((k for hour, (_, _, k) in hours.items() if hour >= day), Counter())
    latest = list(site.provisioning_log.order_by("-created", "-id")[:recent])
    return Activity(
        window=window if window in WINDOWS else "24h",
        buckets=[(start, *buckets[start]) for start in starts],
        error_kinds=kinds.most_common(),
        recent=latest,
    )
