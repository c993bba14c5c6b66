"""Which schemas and tables an extraction covers: include/exclude regular expressions, system schemas.

Patterns are Python regular expressions that must match the whole name (`re.fullmatch`). Table patterns
match either the bare name (`orders`) or the qualified one (`sales.orders`); views are tables here.
An empty include list means everything (for MySQL and MariaDB, whose schemas are databases: the
configured `database` if there is one); exclude wins over include. System schemas (the catalog's own,
listed in each technology's profile) are left out unless `includeSystemSchemas` is set. Table patterns
never remove a schema: a schema whose tables are all filtered out is still extracted, empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.profiles import profile_for
from connector_extractors.run_config import Filters


def is_system_schema(technology: str, name: str) -> bool:
    """Whether `name` is one of `technology`'s catalog schemas (its profile lists them; case is ignored)."""
    profile = profile_for(technology)
    if profile is None:
        return False
    lowered = name.lower()
    return lowered in profile.system_schemas_lower or lowered.startswith(profile.system_schema_prefixes)


def _compile(patterns: list[str], what: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConnectorError(
                ErrorCategory.INVALID_CONFIGURATION,
                f"Invalid {what} pattern {pattern!r}: {exc}",
                "Patterns are Python regular expressions matched against the whole name.",
            ) from None
    return tuple(compiled)


@dataclass(frozen=True)
class NameFilter:
    technology: str
    include_system: bool
    schema_include: tuple[re.Pattern[str], ...]
    schema_exclude: tuple[re.Pattern[str], ...]
    table_include: tuple[re.Pattern[str], ...]
    table_exclude: tuple[re.Pattern[str], ...]

    @classmethod
    def from_config(cls, technology: str, filters: Filters, only_schema: str | None = None) -> NameFilter:
        """`only_schema`: the schema to keep when no schema include pattern is given (MySQL's database)."""
        schema_include = _compile(filters.schemas.include, "schema include")
        if not schema_include and only_schema:
            schema_include = (re.compile(re.escape(only_schema)),)
        return cls(
            technology=technology,
            include_system=filters.include_system_schemas,
            schema_include=schema_include,
            schema_exclude=_compile(filters.schemas.exclude, "schema exclude"),
            table_include=_compile(filters.tables.include, "table include"),
            table_exclude=_compile(filters.tables.exclude, "table exclude"),
        )

    @property
    def filters_tables(self) -> bool:
        return bool(self.table_include or self.table_exclude)

    def schema_ok(self, name: str) -> bool:
        if not self.include_system and is_system_schema(self.technology, name):
            return False
        if self.schema_include and not any(p.fullmatch(name) for p in self.schema_include):
            return False
        return not any(p.fullmatch(name) for p in self.schema_exclude)

    def table_ok(self, schema: str, name: str) -> bool:
        if not self.filters_tables:
            return True
        qualified = f"{schema}.{name}"

        def hit(patterns: tuple[re.Pattern[str], ...]) -> bool:
            return any(p.fullmatch(name) or p.fullmatch(qualified) for p in patterns)

        if self.table_include and not hit(self.table_include):
            return False
        return not hit(self.table_exclude)
