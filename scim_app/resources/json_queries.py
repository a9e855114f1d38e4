"""Conditions on a JSON array inside the `data` document, for filters such as
`phoneNumbers[type eq "work"].value sw "+1"` or `addresses.country eq "DE"`: true when
some value of the array satisfies every condition.

Django has no lookup for "some element of a JSON array matches", so this is one small
expression compiled per database: EXISTS over jsonb_array_elements on PostgreSQL and
over json_each on SQLite. Values are always parameters; keys come from the attribute
table, never from the request.
"""

import itertools
from dataclasses import dataclass

from django.db.models import BooleanField, Expression, F

ALIASES = itertools.count()


@dataclass(frozen=True)
class ArrayCondition:
    """`sub op value` on one value of the array: op is eq, co, sw, ew or pr."""

    sub: str
    op: str
    value: str | None
    case_exact: bool = False
    type: str = "string"


def like_pattern(op: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[op]


class JsonArrayAny(Expression):
    conditional = True
    output_field = BooleanField()

    def __init__(self, keys: tuple[str, ...], conditions: list[ArrayCondition]):
        super().__init__()
        self.keys = keys
        self.conditions = conditions
        self.source = F("data")

    def get_source_expressions(self):
        return [self.source]

    def set_source_expressions(self, expressions):
        (self.source,) = expressions

    def as_postgresql(self, compiler, connection):
        column, params = compiler.compile(self.source)
        alias = f"scim_value_{next(ALIASES)}"
        array = f"({column} #> %s)"
        path = list(self.keys)
        where, where_params = [], []
        for condition in self.conditions:
            text = f"({alias}.item ->> %s)"
            sql, sql_params = self.condition(condition, text, [condition.sub])
            where.append(sql)
            where_params += sql_params
        sql = (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({array}) = "
            f"'array' THEN {array} ELSE '[]'::jsonb END) AS {alias}(item) "
            f"WHERE {' AND '.join(where)})"
        )
        return sql, (*params, path, *params, path, *where_params)

    def as_sqlite(self, compiler, connection):
        column, params = compiler.compile(self.source)
        alias = f"scim_value_{next(ALIASES)}"
        path = "$" + "".join(f'."{key}"' for key in self.keys)
        where, where_params = [], []
        for condition in self.conditions:
            text = f"json_extract({alias}.value, %s)"
            sql, sql_params = self.condition(condition, text, [f'$."{condition.sub}"'])
            where.append(sql)
            where_params += sql_params
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({column}, %s) AS {alias} WHERE {' AND '.join(where)})"
        )
        return sql, (*params, path, *where_params)

    @staticmethod
    def condition(condition: ArrayCondition, text: str, params: list) -> tuple[str, list]:
        if condition.op == "pr":
            return f"COALESCE(CAST({text} AS TEXT), '') <> ''", params
        if condition.type == "boolean":
            # ->> gives 'true'/'false' on PostgreSQL, json_extract 1/0 on SQLite.
            truth = str(condition.value).lower() == "true"
            return f"LOWER(CAST({text} AS TEXT)) IN (%s, %s)", [
                *params,
                "true" if truth else "false",
                "1" if truth else "0",
            ]
        if not condition.case_exact:
            text = f"LOWER({text})"
        value = condition.value if condition.case_exact else condition.value.lower()
        if condition.op == "eq":
            return f"{text} = %s", [*params, value]
        return f"{text} LIKE %s ESCAPE '\\'", [*params, like_pattern(condition.op, value)]
