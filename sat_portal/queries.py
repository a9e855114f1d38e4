"""ORM helpers shared by the console, the admin and the API."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def subquery_count(queryset: QuerySet, field: str) -> Coalesce:
    """Count of `queryset` rows whose `field` is the outer row, as a column.

    A correlated `SELECT COUNT(*)` runs once per row shown (one index lookup each),
    where a JOIN + GROUP BY would aggregate the whole table before the page is cut, and
    two joined Count()s would multiply each other.
    """
    counts = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
