"""ORM helpers shared by the console, the admin and the API."""

from functools import cached_property

from django.core.paginator import Paginator
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


class CappedPaginator(Paginator):
    """Counts at most `cap` rows: a COUNT(*) over a million rows on every page load is what
    makes lists of big tables slow. Past the cap the page numbers stop and the total
    reads "10,000+"; search and filters narrow the list down."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.cap].count()

    @property
    def capped(self) -> bool:
        return self.count >= self.cap
