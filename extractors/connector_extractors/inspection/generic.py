"""The general reader: SQLAlchemy 2.x multi-reflection, a few catalog queries per schema.

For each schema: the table and view names, then `Inspector.get_multi_columns`,
`get_multi_pk_constraint`, `get_multi_foreign_keys`, `get_multi_unique_constraints`,
`get_multi_table_comment` (and indexes when asked) for all its objects at once. If a multi call fails,
the reader falls back to the per-table call for that schema, so that one broken table becomes a
warning instead of a failed run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, inspect
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.engine.reflection import Inspector, ObjectKind
from sqlalchemy.types import TypeEngine

from connector_extractors.inspection.base import (
    Progress,
    ReadRequest,
    ReadResult,
    TypeStrings,
    make_column,
)
from connector_extractors.metadata import (
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    TableKind,
    UniqueConstraint,
)
from connector_extractors.profiles import profile_for
from connector_extractors.type_family import type_family

log = logging.getLogger(__name__)
T = TypeVar("T")
Key = tuple[str | None, str]


@dataclass(frozen=True)
class _Object:
    kind: TableKind
    materialized: bool = False
    foreign: bool = False


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def describe_type(
    col_type: TypeEngine[Any], dialect: Any, types: TypeStrings
) -> tuple[str, int | None, int | None, int | None]:
    """(SQL type text, length, precision, scale) of a reflected SQLAlchemy type."""
    try:
        text = col_type.compile(dialect=dialect)
    except Exception:  # an exotic reflected type the dialect cannot render
        text = type(col_type).__name__
    length = _int(getattr(col_type, "length", None))
    precision = _int(getattr(col_type, "precision", None))
    if precision is None:
        precision = _int(getattr(col_type, "fsp", None))  # MySQL fractional seconds
    scale = _int(getattr(col_type, "scale", None))
    return types(text), length, precision, scale


def domain_base(col_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The base type of a reflected domain (through domains over domains); any other type itself.

    SQLAlchemy reflects a PostgreSQL domain as a `DOMAIN` type holding its base as `data_type`.
    """
    base = col_type
    for _ in range(32):  # a domain chain is short; the bound only guards against a reflection loop
        inner = getattr(base, "data_type", None)
        if not isinstance(inner, TypeEngine):
            break
        base = inner
    return base


def enum_values(col_type: TypeEngine[Any]) -> tuple[str, ...] | None:
    """The labels of an enumerated type (SQLAlchemy `Enum`, MySQL `ENUM` and `SET`), else None."""
    values = getattr(col_type, "enums", None)
    if values is None and type(col_type).__name__ == "SET":
        values = getattr(col_type, "values", None)
    return tuple(str(v) for v in values) if values is not None else None


class GenericReader:
    def __init__(self, connection: Connection, technology: str) -> None:
        self.connection = connection
        self.technology = technology
        self.inspector: Inspector = inspect(connection)
        self.dialect = connection.dialect
        self._types = TypeStrings()
        profile = profile_for(technology)
        self._family_overrides = profile.type_family_overrides if profile else {}

    # -- listing ------------------------------------------------------------------------------------

    def schema_names(self) -> list[str]:
        return list(self.inspector.get_schema_names())

    def _optional_names(self, method: str, schema: str) -> list[str]:
        getter: Callable[..., list[str]] | None = getattr(self.inspector, method, None)
        if getter is None:
            return []
        try:
            return list(getter(schema=schema))
        except NotImplementedError:
            return []

    def _objects(self, schema: str, request: ReadRequest) -> dict[str, _Object]:
        objects: dict[str, _Object] = {}
        foreign = set(self._optional_names("get_foreign_table_names", schema))
        for name in self.inspector.get_table_names(schema=schema):
            objects[name] = _Object("table", foreign=name in foreign)
        for name in foreign:
            objects[name] = _Object("table", foreign=True)
        if request.include.views:
            for name in self.inspector.get_view_names(schema=schema):
                objects[name] = _Object("view")
            for name in self._optional_names("get_materialized_view_names", schema):
                objects[name] = _Object("view", materialized=True)
        return {n: o for n, o in objects.items() if request.filter.table_ok(schema, n)}

    def count_objects(self, schemas: list[str], request: ReadRequest) -> int:
        return sum(len(self._objects(schema, request)) for schema in schemas)

    # -- reading ------------------------------------------------------------------------------------

    def read(self, schemas: list[str], request: ReadRequest, progress: Progress) -> ReadResult:
        result = ReadResult(schemas=[])
        for schema in schemas:
            try:
                tables = self._read_schema(schema, request, result.warnings)
            except Exception as exc:
                self._recover()
                if not self._fatal(exc):
                    result.warnings.append(f"schema {schema}: skipped ({_brief(exc)})")
                    progress.schema_done(schema, 0)
                    continue
                raise
            result.schemas.append(Schema(name=schema, tables=tables))
            progress.schema_done(schema, len(tables))
        return result

    def _fatal(self, exc: Exception) -> bool:
        """Connection-level failures end the run; anything else about one schema is a warning."""
        return bool(getattr(exc, "connection_invalidated", False)) or self.connection.closed

    def _recover(self) -> None:
        # PostgreSQL-like backends refuse further statements in a failed transaction.
        if self.connection.in_transaction():
            self.connection.rollback()

    def _multi(
        self,
        what: str,
        schema: str,
        names: list[str],
        *,
        multi: Callable[..., dict[Key, T]],
        single: Callable[..., T],
        kind: ObjectKind,
        warnings: list[str],
    ) -> dict[str, T]:
        """{table: result} from one multi call, or per table (warning per failure) if it fails."""
        if not names:
            return {}
        try:
            found = multi(schema=schema, filter_names=names, kind=kind)
            return {key[1]: value for key, value in found.items()}
        except NotImplementedError:
            return {}
        except Exception as exc:
            self._recover()
            log.warning(
                "schema %s: %s for all tables failed (%s); retrying table by table", schema, what, _brief(exc)
            )
        results: dict[str, T] = {}
        for name in names:
            try:
                results[name] = single(name, schema=schema)
            except NotImplementedError:
                return results
            except Exception as exc:
                self._recover()
                warnings.append(f"{schema}.{name}: {what} could not be read ({_brief(exc)})")
        return results

    def _read_schema(self, schema: str, request: ReadRequest, warnings: list[str]) -> list[Table]:
        include = request.include
        insp = self.inspector
        objects = self._objects(schema, request)
        names = sorted(objects)
        table_names = [n for n in names if objects[n].kind == "table"]
        view_names = [n for n in names if objects[n].kind == "view"]
        columns = self._multi(
            "columns",
            schema,
            names,
            multi=insp.get_multi_columns,
            single=insp.get_columns,
            kind=ObjectKind.ANY,
            warnings=warnings,
        )
        pks = (
            self._multi(
                "primary key",
                schema,
                table_names,
                multi=insp.get_multi_pk_constraint,
                single=insp.get_pk_constraint,
                kind=ObjectKind.TABLE,
                warnings=warnings,
            )
            if include.primary_keys
            else {}
        )
        fks = (
            self._multi(
                "foreign keys",
                schema,
                table_names,
                multi=insp.get_multi_foreign_keys,
                single=insp.get_foreign_keys,
                kind=ObjectKind.TABLE,
                warnings=warnings,
            )
            if include.foreign_keys
            else {}
        )
        uniques = (
            self._multi(
                "unique constraints",
                schema,
                table_names,
                multi=insp.get_multi_unique_constraints,
                single=insp.get_unique_constraints,
                kind=ObjectKind.TABLE,
                warnings=warnings,
            )
            if include.unique_constraints
            else {}
        )
        comments = (
            self._multi(
                "comment",
                schema,
                names,
                multi=insp.get_multi_table_comment,
                single=insp.get_table_comment,
                kind=ObjectKind.ANY,
                warnings=warnings,
            )
            if include.comments and self.dialect.supports_comments
            else {}
        )
        indexes = (
            self._multi(
                "indexes",
                schema,
                table_names,
                multi=insp.get_multi_indexes,
                single=insp.get_indexes,
                kind=ObjectKind.TABLE,
                warnings=warnings,
            )
            if include.indexes
            else {}
        )
        definitions: dict[str, str | None] = {}
        if include.view_definitions:
            for name in view_names:
                try:
                    definitions[name] = insp.get_view_definition(name, schema=schema)
                except Exception as exc:
                    self._recover()
                    warnings.append(f"{schema}.{name}: view definition could not be read ({_brief(exc)})")
        tables: list[Table] = []
        for name in names:
            if name not in columns:
                if not any(w.startswith(f"{schema}.{name}:") for w in warnings):
                    warnings.append(f"{schema}.{name}: columns could not be read")
                continue
            obj = objects[name]
            try:
                table_columns = self._columns(columns[name])
            except Exception as exc:  # one odd table (e.g. an unrenderable type) is a warning
                warnings.append(f"{schema}.{name}: columns could not be read ({_brief(exc)})")
                continue
            table = Table(
                name=name,
                kind=obj.kind,
                columns=table_columns,
                materialized=obj.materialized,
                foreign=obj.foreign,
                view_definition=definitions.get(name),
            )
            if include.comments:
                comment = comments.get(name)
                table.comment = (comment["text"] if comment else None) or None
            pk = pks.get(name)
            if pk and pk.get("constrained_columns"):
                table.primary_key = PrimaryKey(pk.get("name"), tuple(pk["constrained_columns"]))
            table.foreign_keys = [
                ForeignKey(
                    fk.get("name"),
                    tuple(fk["constrained_columns"]),
                    fk.get("referred_schema") or schema,
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in fks.get(name, [])
            ]
            table.unique_constraints = [
                UniqueConstraint(uq.get("name"), tuple(uq["column_names"])) for uq in uniques.get(name, [])
            ]
            table.indexes = [
                Index(ix["name"] or "", tuple(c or "" for c in ix["column_names"]), bool(ix["unique"]))
                for ix in indexes.get(name, [])
                if ix.get("name")
            ]
            tables.append(table)
        return tables

    def _columns(self, reflected: Iterable[ReflectedColumn]) -> list[Column]:
        result = []
        for position, col in enumerate(reflected, start=1):
            base = domain_base(col["type"])
            sql_type, length, precision, scale = describe_type(col["type"], self.dialect, self._types)
            family = self._family_overrides.get(sql_type.upper())
            labels = enum_values(base)
            if labels is not None:  # SQLAlchemy's Enum has the longest label as length: none is declared
                family, length, precision, scale = "string", None, None, None
            elif base is not col["type"]:  # a domain: the family and facets of its base type
                base_text, length, precision, scale = describe_type(base, self.dialect, self._types)
                family = family or type_family(base_text)
            default = col.get("default")
            result.append(
                make_column(
                    name=col["name"],
                    position=position,
                    sql_type=sql_type,
                    nullable=bool(col.get("nullable", True)),
                    length=length,
                    precision=precision,
                    scale=scale,
                    default=str(default) if default is not None else None,
                    comment=col.get("comment"),
                    family=family,
                    enum_values=labels,
                )
            )
        return result


def _brief(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    return text[:200]
