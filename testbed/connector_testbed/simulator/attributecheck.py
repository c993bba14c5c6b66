"""What a bulktree node may carry besides its structure: the check behind "unknown attribute" errors.

Every key of a node other than `name`, `technicalName`, `type` and `children` must be an attribute of the
node's dataType in the client space's metamodel (catalogue.py), with a value of the attribute's type.
Whether the real service refuses an unknown key or ignores it is not documented, so both exist behind
the `unknown_attributes` limit: "refuse" (the default: 400 naming the key) or "drop" (silently left out,
as if never sent). `technologyCode` is stricter in both modes, as DataGalaxy's toolbox learned: only the
top node may hold it, and it must be a technology of the client space.
"""

from __future__ import annotations

from typing import Any, Literal

from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.catalogue import Metamodel, type_error

UnknownAttributes = Literal["refuse", "drop"]
STRUCTURAL_KEYS = frozenset({"name", "type", "technicalName", "children"})
_SCALARS = frozenset({str, int, float, bool})  # hashable values whose check result can be remembered
_MEMO_TEXT = 64  # longer texts (comments, descriptions) are rarely repeated: not worth remembering


class AttributeCheck:
    def __init__(self, metamodel: Metamodel, unknown: UnknownAttributes) -> None:
        self.metamodel = metamodel
        self.unknown = unknown
        self._lookups: dict[str, dict[str, Any]] = {}
        self._codes = metamodel.technology_codes()
        self._tags = frozenset(metamodel.tags)
        # (dataType, key, value type, value) already found valid: a tree repeats a few values (data
        # types, sizes, flags) tens of thousands of times. Same metamodel for the check's life (one request).
        self._valid: set[tuple[str, str, type, Any]] = set()

    def attributes(
        self, node: dict[str, Any], data_type: str, node_type: str, path: str, top: bool
    ) -> dict[str, Any]:
        """The node's attributes as they are stored; raises ApiError for what the mode refuses, naming the
        node as `{node_type} '{path}'` (built only then: 44,000 nodes a run)."""
        lookup = self._lookups.get(data_type)
        if lookup is None:
            lookup = self._lookups[data_type] = self.metamodel.lookup(data_type)
        kept: dict[str, Any] = {}
        for key, value in node.items():
            if key in STRUCTURAL_KEYS:
                continue
            if key in ("technologyCode", "technology"):  # `technology`: the developer guide's example
                kept["technologyCode"] = self._technology(value, f"{node_type} '{path}'", top)
                continue
            kind = type(value)
            short = kind is not str or len(value) <= _MEMO_TEXT
            memo = (data_type, key, kind, value) if kind in _SCALARS and short else None
            if memo is not None and memo in self._valid:
                kept[key] = value
                continue
            spec = lookup.get(key)
            if spec is None or not spec.is_editable:
                if self.unknown == "drop":
                    continue
                why = "is read-only" if spec is not None else f"does not exist for dataType {data_type}"
                raise ApiError(400, f"Attribute '{key}' {why} ({node_type} '{path}')")
            problem = type_error(spec, value, self._tags)
            if problem is not None:
                if self.unknown == "drop":
                    continue
                where = f"{node_type} '{path}'"
                raise ApiError(400, f"Invalid value for attribute '{key}' ({where}): {problem}")
            if memo is not None:
                self._valid.add(memo)
            kept[key] = value
        return kept

    def _technology(self, value: Any, where: str, top: bool) -> str:
        if not top:
            raise ApiError(400, f"'technologyCode' is only allowed on the top node of the tree ({where})")
        if not isinstance(value, str) or value not in self._codes:
            raise ApiError(400, f"Unknown technology code {value!r} ({where})")
        return value
