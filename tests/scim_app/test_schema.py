"""The provisioning tables' indexes: every foreign key can be followed back without a
scan (deletes cascade, a site's rows are found), and no index only repeats the start of
another, which every insert would pay for and no query needs (issue 16)."""

import pytest
from django.db import connection

from scim_app.models import Membership, ProvisioningLogEntry, ScimGroup, ScimUser

pytestmark = pytest.mark.django_db

MODELS = [ScimUser, ScimGroup, Membership, ProvisioningLogEntry]


def indexed_columns(model) -> list[tuple[list[str], int]]:
    """Each full index's (or unique constraint's) plain leading columns, in order, with how
    many columns and expressions it has in all (an expression's column is None or
    missing, by database). Partial indexes are left out: they hold only some rows, so
    neither do they repeat another index nor can another rely on them."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    partial = {index.name for index in model._meta.indexes if index.condition is not None}
    found = []
    for name, constraint in constraints.items():
        if not (constraint["index"] or constraint["unique"]) or not constraint["columns"]:
            continue
        if name in partial:
            continue
        columns = []
        for column in constraint["columns"]:
            if not column:
                break
            columns.append(column)
        expressions = len(constraint.get("expressions") or [])
        found.append((columns, max(len(constraint["columns"]), len(columns) + expressions)))
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_foreign_key_leads_an_index(model):
    leading = {columns[0] for columns, _ in indexed_columns(model) if columns}
    for field in model._meta.concrete_fields:
        if field.is_relation and field.db_constraint:
            assert field.column in leading, f"{model.__name__}.{field.name} has no index"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_no_single_column_index_repeats_the_start_of_another(model):
    indexes = indexed_columns(model)
    for columns, size in indexes:
        if size != 1 or len(columns) != 1:
            continue
        longer = [other for other, n in indexes if n > 1 and other[:1] == columns]
        assert not longer, f"{model.__name__}: the index on {columns} is covered by {longer}"
