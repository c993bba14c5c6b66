"""What the target client space understands, read once per run before anything is written.

A bulktree node may only carry attributes the client space defines, and an unknown technology code makes
the import fail (DataGalaxy's toolbox README). So, before the push:

- `GET /technologies` resolves the source's `technologyCode`: the user's `spec.target.technologyCode` when
  given (an unknown one is an InvalidConfiguration error naming the field and the closest known codes),
  otherwise the client space's code for the source technology, otherwise none (with a warning);
- `GET /attributes?dataType=Field` tells which optional custom attributes exist: the SQL type as written
  and the column default go only under a custom attribute an administrator created (names below); when
  there is none they are left out, with one log line.

Sources and choices: docs/datagalaxy-api-choices.md.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.errors import ConnectorError, ErrorCategory

log = logging.getLogger("connector_extractors.datagalaxy")

TECHNOLOGY_FIELD = "spec.target.technologyCode"
# Codes or display names a client space may use for each source technology (compared without case,
# spaces or punctuation). Only `azuresql` and `mysql` appear in DataGalaxy's public examples.
TECHNOLOGY_NAMES: dict[str, tuple[str, ...]] = {
    "postgresql": ("postgresql", "postgres"),
    "mysql": ("mysql",),
    "mariadb": ("mariadb",),
    "sqlserver": ("sqlserver", "mssql", "microsoftsqlserver"),
    "oracle": ("oracle", "oracledatabase"),
    "snowflake": ("snowflake",),
    "redshift": ("redshift", "amazonredshift"),
    "sqlite": ("sqlite",),
    "duckdb": ("duckdb",),
}
# Custom Field attributes that receive a column facet no system attribute holds (display names, compared
# without case). Created by an administrator as Text attributes; otherwise the facet is not sent.
CUSTOM_FACETS: dict[str, tuple[str, ...]] = {
    "sql_type": ("Technical data type", "Native data type", "SQL type"),
    "default": ("Default value",),
    "enum_values": ("Allowed values", "Enum values"),
}
_TEXT_FORMATS = frozenset({"Text", "FormattedText"})
_UNREADABLE = (403, 404, 405, 501)  # a route this token or server does not offer


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Vocabulary:
    """The technology code for the top node, and the custom attribute keys per column facet."""

    technology_code: str | None = None
    custom_keys: dict[str, str] = field(default_factory=dict)  # facet -> the attribute's display name
    warnings: tuple[str, ...] = ()

    def identity(self) -> dict[str, Any]:
        """Part of the content hash: a changed vocabulary changes what is sent."""
        return {"technologyCode": self.technology_code, "custom": dict(sorted(self.custom_keys.items()))}


def _closest(wanted: str, codes: Iterable[str]) -> str:
    known = sorted(set(codes))
    by_normal = {_normal(c): c for c in known}
    close = [
        by_normal[n] for n in difflib.get_close_matches(_normal(wanted), list(by_normal), n=3, cutoff=0.4)
    ]
    shown = close or known[:5]
    return ", ".join(repr(c) for c in shown) or "none"


def resolve_technology(
    requested: str | None, source_technology: str, technologies: list[dict[str, Any]] | None
) -> tuple[str | None, list[str]]:
    """The code to send on the top node (or None) and the warnings; raises for an unknown requested code."""
    if technologies is None:  # the catalogue cannot be read: send what the user asked for, unchecked
        if requested:
            return requested, [
                f"The target's technology list could not be read: {TECHNOLOGY_FIELD} {requested!r} is sent "
                "unchecked"
            ]
        return None, [
            "The target's technology list could not be read: the source is sent without a technology"
        ]
    codes = [str(t["technologyCode"]) for t in technologies if t.get("technologyCode")]
    if requested:
        if requested in codes:
            return requested, []
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION,
            f"{TECHNOLOGY_FIELD} {requested!r} is not a technology of the target client space "
            f"(closest known: {_closest(requested, codes)})",
            "Use a technologyCode listed by the target (GET /technologies), or leave the field out.",
        )
    wanted = {_normal(n) for n in TECHNOLOGY_NAMES.get(source_technology, (source_technology,))}
    for technology in technologies:
        code = str(technology.get("technologyCode") or "")
        names = {_normal(code), _normal(str(technology.get("displayName") or ""))}
        if code and names & wanted:
            return code, []
    return None, [
        f"The target client space has no technology for {source_technology!r}: the source is sent "
        f"without a technology (set {TECHNOLOGY_FIELD} to one of its codes, e.g. "
        f"{_closest(source_technology, codes)})"
    ]


def custom_keys(attributes: list[dict[str, Any]] | None) -> dict[str, str]:
    """The custom Field attribute that receives each facet, when the client space has one."""
    found: dict[str, str] = {}
    if not attributes:
        return found
    by_name = {
        _normal(str(a.get("name"))): str(a.get("name"))
        for a in attributes
        if a.get("isCustom") and a.get("format") in _TEXT_FORMATS and a.get("isEditable", True)
    }
    for facet, names in CUSTOM_FACETS.items():
        for name in names:
            if _normal(name) in by_name:
                found[facet] = by_name[_normal(name)]
                break
    return found


def _read(client: DataGalaxyClient, path: str, params: dict[str, str] | None, what: str) -> Any:
    try:
        return client.get_json(path, params=params, what=what)
    except DataGalaxyError as error:
        if error.status in _UNREADABLE:
            log.info("DataGalaxy: %s is not available (HTTP %s)", path, error.status)
            return None
        raise


def learn_vocabulary(
    client: DataGalaxyClient, requested_code: str | None, source_technology: str
) -> Vocabulary:
    """Two reads: the technologies and the Field attributes of the target client space."""
    listed = _read(client, "/technologies", None, "listing the technologies of the target")
    technologies = listed.get("technologies") if isinstance(listed, dict) else None
    if technologies is not None and not isinstance(technologies, list):
        technologies = None
    code, warnings = resolve_technology(
        requested_code,
        source_technology,
        [t for t in technologies if isinstance(t, dict)] if technologies is not None else None,
    )
    attributes = _read(
        client, "/attributes", {"dataType": "Field"}, "listing the column attributes of the target"
    )
    keys = custom_keys(
        [a for a in attributes if isinstance(a, dict)] if isinstance(attributes, list) else None
    )
    absent = [names[0] for facet, names in CUSTOM_FACETS.items() if facet not in keys]
    if absent:
        log.info(
            "DataGalaxy: the target has no custom Field attribute %s: those column facets are not sent",
            " / ".join(repr(name) for name in absent),
        )
    return Vocabulary(code, keys, tuple(warnings))
