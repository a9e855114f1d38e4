"""Querysets compiled to SQL once, then run with other values, and rows saved by a
statement built once (issue 16).

Django compiles a queryset to SQL each time it is evaluated. For the few queries that
every SCIM request runs (the bearer token with its site, a user by id or by userName),
compiling cost more CPU than everything else the query does, database included. A
`PreparedQuery` compiles its queryset once per thread, with example values, keeps the
SQL, and runs it with each request's values: the same statement, the same rows turned
into the same model instances (select_related included) as the queryset would give.

Only for querysets whose SQL does not depend on the values, only on where they go: an
`=` comparison or a `Lower()` of one, not `__in=[...]` (its length shapes the SQL) nor a
slice (LIMIT and OFFSET are written into the SQL).

Saving is the same: `save()` builds its INSERT or UPDATE anew each time; `save_row`
builds a model's two statements once and writes a row with each request's values.

These statements, and the provisioning log's row, run on one cursor per connection
(`cursor()`), kept open rather than opened for each statement.
"""

import functools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class Compiled:
    compiler: SQLCompiler
    sql: str
    params: tuple
    # Where each value goes in `params`, and how the database wants it there.
    slots: tuple[tuple[int, Callable[[Any], Any]], ...]
    # How rows become model instances (what Django's ModelIterable works out per query).
    columns: "Columns"


@dataclass(frozen=True)
class Columns:
    start: int
    end: int
    names: list[str]
    converters: dict
    related: list

    @classmethod
    def of(cls, compiler: SQLCompiler) -> "Columns":
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return cls(
            start,
            end,
            [column[0].target.attname for column in select[start:end]],
            compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
            get_related_populators(klass_info, select, compiler.using),
        )


def cursor() -> CursorWrapper:
    """A cursor of the thread's connection for statements whose rows are read at once:
    Django's cursor (its errors, execute wrappers and query logging as ever) around one
    database cursor that stays open with its connection. Opening a cursor for each
    statement, as `connection.cursor()` does, cost a fifth of the CPU of each of the
    three statements every SCIM request runs (a cursor's type adapters are set up anew)."""
    connection = connections[DEFAULT_DB_ALIAS]
    # What connection.cursor() checks first: once per request, a connection the database
    # has dropped is replaced.
    connection.close_if_health_check_failed()
    kept = getattr(connection, "kept_cursor", None)
    if kept is None or kept.connection is not connection.connection:
        connection.ensure_connection()
        with connection.wrap_database_errors:
            kept = connection.kept_cursor = connection.create_cursor()
    if connection.queries_logged:  # DEBUG, or a test counting queries
        return connection.make_debug_cursor(kept)
    return connection.make_cursor(kept)


def as_is(value: Any) -> Any:
    return value


def as_hex(value: uuid.UUID) -> str:
    return value.hex


class PreparedQuery:
    """`build(*values)` returns the queryset; `examples` are values of the same types that
    appear nowhere else in its SQL's parameters (e.g. -1 for a primary key)."""

    def __init__(self, build: Callable[..., QuerySet], *examples: Any):
        self.build = build
        self.examples = examples
        # One compiler per thread: each thread has its own database connection.
        self.local = threading.local()

    @property
    def model(self) -> type[Model]:
        return self.compiled().compiler.query.model

    def compiled(self) -> Compiled:
        found = getattr(self.local, "compiled", None)
        if found is None:
            queryset = self.build(*self.examples)
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            found = self.local.compiled = Compiled(
                compiler,
                sql,
                tuple(params),
                tuple(self.slot(params, e) for e in self.examples),
                Columns.of(compiler),
            )
        return found

    def slot(self, params: list, example: Any) -> tuple[int, Callable[[Any], Any]]:
        # On SQLite a UUID is compared as its hex string, a moment as text.
        forms = [(example, as_is)]
        if isinstance(example, uuid.UUID):
            forms.append((example.hex, as_hex))
        if isinstance(example, datetime):
            adapt = connections[DEFAULT_DB_ALIAS].ops.adapt_datetimefield_value
            forms.append((adapt(example), adapt))
        for form, convert in forms:
            positions = [i for i, param in enumerate(params) if param == form]
            if len(positions) == 1:
                return positions[0], convert
        raise ImproperlyConfigured(f"{example!r} is not exactly one parameter of {params!r}")

    def __call__(self, *values: Any) -> list[Model]:
        """The model instances the queryset built from `values` would give."""
        compiled = self.compiled()
        params = list(compiled.params)
        for (position, convert), value in zip(compiled.slots, values, strict=True):
            params[position] = convert(value)
        kept = cursor()
        kept.execute(compiled.sql, params)
        return instances(compiled, kept.fetchall())


def instances(compiled: Compiled, rows: list[tuple]) -> list[Model]:
    """Rows of the compiled SQL as model instances: what Django's ModelIterable does."""
    compiler, columns = compiled.compiler, compiled.columns
    model = compiler.klass_info["model"]
    if columns.converters:
        rows = compiler.apply_converters(rows, columns.converters)
    found = []
    for row in rows:
        instance = model.from_db(compiler.using, columns.names, row[columns.start : columns.end])
        for populator in columns.related:
            populator.populate(row, instance)
        found.append(instance)
    return found


# --- a model's row written by one statement built once ----------------------------------


@dataclass(frozen=True)
class RowStatements:
    insert: str  # its values: the key (unless the database assigns it), then `fields`
    update: str  # its values: `fields`, then the key
    fields: tuple[Field, ...]
    # Per field, the type whose values it writes as they are (see plain_type).
    plain: tuple[type | None, ...]
    key_assigned_by_database: bool


# Fields that write a value of their own type as it is, on every database: Django's
# preparation of them (four calls per field) only checks that a str is a str.
PLAIN_TYPES = (
    (models.BooleanField, bool),
    (models.IntegerField, int),
    (models.CharField, str),
    (models.TextField, str),
)


def plain_type(field: Field) -> type | None:
    """The type whose values `field` (or the key a foreign key holds) writes unchanged;
    None for fields whose value the database gets converted: JSON, moments, UUIDs,
    addresses."""
    target = field.target_field if field.is_relation else field
    return next((kind for cls, kind in PLAIN_TYPES if isinstance(target, cls)), None)


@functools.cache
def row_statements(model: type[Model]) -> RowStatements:
    """The INSERT and the update-by-key of a whole row of `model`, built from its fields
    once: Django's compiler would build the same statement for every save()."""
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    by_database = bool(meta.pk.db_returning)  # an AutoField: no key in the INSERT
    columns = [quote(field.column) for field in fields]
    if not by_database:
        columns.insert(0, key)
    values = ", ".join(["%s"] * len(columns))
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Names from the model, values as parameters.
    return RowStatements(
        insert=f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})",  # noqa: S608
        update=f"UPDATE {table} SET {assignments} WHERE {key} = %s",  # noqa: S608
        fields=fields,
        plain=tuple(plain_type(field) for field in fields),
        key_assigned_by_database=by_database,
    )


def row_values(obj: Model, statements: RowStatements, adding: bool) -> list:
    """The fields' values as save() would write them (auto_now fields set on `obj`)."""
    if obj.get_deferred_fields():
        raise ImproperlyConfigured(f"{type(obj).__name__}: load every field before saving")
    return db_values(statements, [field.pre_save(obj, adding) for field in statements.fields])


def db_values(statements: RowStatements, values: list) -> list:
    """`values`, one per field of `statements`, as the database takes them: a plain
    field's value of its own type as it is, every other through Django's preparation."""
    connection = connections[DEFAULT_DB_ALIAS]
    return [
        value
        if plain is not None and (value is None or type(value) is plain)
        else field.get_db_prep_save(value, connection)
        for field, plain, value in zip(statements.fields, statements.plain, values, strict=True)
    ]


def insert_statement(obj: Model) -> tuple[str, list]:
    """The INSERT of `obj` as a new row, and its parameters. A key the database assigns
    (an AutoField) is not read back."""
    statements = row_statements(type(obj))
    values = row_values(obj, statements, adding=True)
    if statements.key_assigned_by_database:
        return statements.insert, values
    key = obj._meta.pk.get_db_prep_save(obj.pk, connections[DEFAULT_DB_ALIAS])
    return statements.insert, [key, *values]


def insert_values(model: type[Model], values: dict[str, Any]) -> tuple[str, list]:
    """The INSERT that `insert_statement(model(**values))` gives, without building the
    instance: for a row written on every request and read by nobody at once (the log).
    `values` by attname (`site_id`, not `site`); every other field takes its default."""
    statements = row_statements(model)
    unknown = values.keys() - insertable(model)
    if unknown:
        raise ImproperlyConfigured(f"{model.__name__} has no fields {sorted(unknown)}")
    return statements.insert, db_values(
        statements,
        [
            values[field.attname] if field.attname in values else field.get_default()
            for field in statements.fields
        ],
    )


@functools.cache
def insertable(model: type[Model]) -> frozenset[str]:
    """The fields insert_values can write: only of a model whose key the database assigns
    and without auto_now fields (their value is set by save())."""
    statements = row_statements(model)
    set_on_save = [
        field.name
        for field in statements.fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    if set_on_save or not statements.key_assigned_by_database:
        raise ImproperlyConfigured(f"{model.__name__}: use save_row (its key or {set_on_save})")
    return frozenset(field.attname for field in statements.fields)


def save_row(obj: Model) -> None:
    """What `obj.save()` does for a fully loaded object of a model without signal
    receivers or a save() of its own, in one statement built once: an INSERT for a new
    object, else an UPDATE of every column by its key."""
    statements = row_statements(type(obj))
    kept = cursor()
    if obj._state.adding:
        kept.execute(*insert_statement(obj))
    else:
        key = obj._meta.pk.get_db_prep_save(obj.pk, connections[DEFAULT_DB_ALIAS])
        kept.execute(statements.update, [*row_values(obj, statements, False), key])
        if kept.rowcount != 1:
            raise DatabaseError(f"{type(obj).__name__} {obj.pk} is no longer there.")
    obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS
