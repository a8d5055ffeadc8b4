"""Queries the ORM builds and compiles once per process, then runs with new inputs.

Building and compiling a query with several subqueries costs the ORM milliseconds of CPU,
several times what running it costs. Paths that run thousands of times in a burst (a live
connect, a ballot) build their query once with stand-in values for the inputs, keep the SQL,
and swap the real values into the parameters on each run. The query stays ordinary ORM code
(readable, checked by the same tests); only its compilation is cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Stand-ins start here and count down: no real id is this negative.
_FIRST_STANDIN = -7_000_001


class Precompiled:
    """``build(**inputs)`` returns a queryset; each input is an integer id (or None)."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *inputs: str) -> None:
        self._build = build
        self._standins = {name: _FIRST_STANDIN - i for i, name in enumerate(inputs)}
        # Per database alias: the SQL and, per parameter, an input name or a constant.
        self._compiled: dict[str, tuple[str, tuple[tuple[bool, Any], ...]]] = {}

    def _sql(self, alias: str) -> tuple[str, tuple[tuple[bool, Any], ...]]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            query = self._build(**self._standins).query
            sql, params = query.get_compiler(using=alias).as_sql()
            by_value = {value: name for name, value in self._standins.items()}
            template = tuple((True, by_value[p]) if p in by_value else (False, p) for p in params)
            missing = set(self._standins) - {name for is_input, name in template if is_input}
            if missing:
                raise RuntimeError(f"the precompiled query lost its inputs {sorted(missing)}")
            compiled = self._compiled[alias] = (sql, template)
        return compiled

    def sql(self, alias: str = DEFAULT_DB_ALIAS, **inputs: int | None) -> tuple[str, list[Any]]:
        """The SQL and its parameters for these inputs (for ``Model.objects.raw``)."""
        sql, template = self._sql(alias)
        return sql, [inputs[value] if is_input else value for is_input, value in template]

    def fetchone(self, alias: str = DEFAULT_DB_ALIAS, **inputs: int | None) -> tuple[Any, ...] | None:
        sql, params = self.sql(alias, **inputs)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
