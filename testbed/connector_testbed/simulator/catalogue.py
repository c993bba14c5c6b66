"""The client space's metamodel: which attribute keys exist on which object kind, and the technologies.

A real DataGalaxy accepts on a bulktree node only the attributes its client space defines: the system
attributes of the spec's `SystemAttribute` enum (keyed by their attribute key, with typed values) and
the custom attributes an administrator created (keyed by their display name). Unknown technology codes
and unknown tag values make an import fail (DataGalaxy's toolbox README). This module is that metamodel;
`GET /attributes`, `GET /attributes/values` and `GET /technologies` read it, and the bulktree route
checks every node against it (see attributecheck.py). Sources: docs/datagalaxy-api-choices.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connector_testbed.simulator.seed import Seed

# AttributeDataTypeEnum (dg-swagger `attribute_data_type_enum.py`), the Dictionary part of it.
DATA_TYPES: tuple[str, ...] = ("Common", "Source", "Container", "Structure", "Field")
# ColumnDataType (dg-swagger `column_data_type.py`).
COLUMN_DATA_TYPES: tuple[str, ...] = (
    "VariableString",
    "FixedString",
    "Integer",
    "DateTime",
    "Decimal",
    "Boolean",
    "Binary",
    "Numeric",
    "Date",
    "TimeStamp",
    "LongText",
    "String",
)
# EntityStatus (dg-swagger `entity_status.py`).
STATUSES: tuple[str, ...] = ("Proposed", "InRevision", "InValidation", "Validated", "Obsolete")
# AttributeFormats (dg-swagger `attribute_formats.py`), the ones a custom attribute here may take.
FORMATS: tuple[str, ...] = (
    "Text",
    "FormattedText",
    "HtmlLink",
    "Boolean",
    "Number",
    "Date",
    "ValueList",
    "MultiValueList",
    "ManagedTag",
    "PersonReference",
)


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute of the metamodel; `key` is what a bulktree node uses (display name if custom)."""

    key: str
    name: str
    format: str
    data_type: str  # "Common" or the kind's dataType
    is_custom: bool = False
    is_editable: bool = True
    values: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The spec's `Attribute` model, as `GET /attributes` lists it."""
        body: dict[str, Any] = {
            "name": self.name,
            "attributeKey": self.key,
            "format": self.format,
            "dataType": self.data_type,
            "description": "",
            "defaultValue": None,
            "isCustom": self.is_custom,
            "isMandatory": False,
            "isEditable": self.is_editable,
        }
        if self.values:
            body["values"] = [{"key": v, "value": v} for v in self.values]
        return body


def _system(key: str, name: str, fmt: str, data_type: str, **kwargs: Any) -> AttributeSpec:
    return AttributeSpec(key, name, fmt, data_type, **kwargs)


# The system attributes a Dictionary object can carry (keys from `SystemAttribute`). Which kind holds
# which key is not published; this follows the UI labels of the help-center articles (a column has a
# data type, size, precision, mandatory flag and order; comments go to "Technical Comment").
SYSTEM_ATTRIBUTES: tuple[AttributeSpec, ...] = (
    _system("description", "Description", "FormattedText", "Common"),
    _system("summary", "Summary", "Text", "Common"),
    _system("status", "Status", "ValueList", "Common", values=STATUSES),
    _system("tags", "Tags", "ManagedTag", "Common"),
    _system("owners", "Owners", "PersonReference", "Common"),
    _system("stewards", "Stewards", "PersonReference", "Common"),
    _system("externalId", "External id", "Text", "Common"),
    _system("externalCreationTime", "External creation time", "Date", "Common"),
    _system("externalModificationTime", "External modification time", "Date", "Common"),
    _system("technologyCode", "Technology", "Text", "Source"),
    _system("technicalComments", "Technical Comment", "FormattedText", "Container"),
    _system("technicalComments", "Technical Comment", "FormattedText", "Structure"),
    _system("technicalComments", "Technical Comment", "FormattedText", "Field"),
    _system("columnDataType", "Data type", "ValueList", "Field", values=COLUMN_DATA_TYPES),
    _system("size", "Size", "Number", "Field"),
    _system("dataTypePrecisionSize", "Precision", "Number", "Field"),
    _system("isMandatory", "Mandatory", "Boolean", "Field"),
    _system("order", "Order", "Number", "Field"),
    _system("containsPersonalData", "Contains personal data", "Boolean", "Field"),
    _system("containsSensitiveData", "Contains sensitive data", "Boolean", "Field"),
    _system("isPrimaryKey", "Primary key", "Boolean", "Field", is_editable=False),
    _system("isForeignKey", "Foreign key", "Boolean", "Field", is_editable=False),
    _system("pkOrder", "PK order", "Number", "Field", is_editable=False),
)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_emails(value: Any) -> bool:
    return _is_text_list(value) and all("@" in v for v in value)


_SYSTEM_NUMBERS = frozenset({"size", "dataTypePrecisionSize", "order", "pkOrder"})
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "Text": _is_text,
    "FormattedText": _is_text,
    "HtmlLink": _is_text,
    "Date": _is_text,
    "Boolean": _is_bool,
    "Number": _is_number,
    "ManagedTag": _is_text_list,
    "PersonReference": _is_emails,
}
_EXPECTED: dict[str, str] = {
    "Text": "a string",
    "FormattedText": "a string",
    "HtmlLink": "a string",
    "Date": "an ISO date string",
    "Boolean": "a boolean",
    "Number": "a number",
    "ManagedTag": "an array of tag values",
    "PersonReference": "an array of e-mail addresses",
    "ValueList": "one of the attribute's values",
    "MultiValueList": "an array of the attribute's values",
}


def type_error(spec: AttributeSpec, value: Any, tag_values: frozenset[str]) -> str | None:
    """Why `value` does not fit `spec` (None when it fits)."""
    if not spec.is_custom and spec.key in _SYSTEM_NUMBERS:
        if _is_count(value):
            return None
        return f"must be a non-negative integer, got {value!r}"
    if spec.format == "ValueList":
        if isinstance(value, str) and value in spec.values:
            return None
        return f"must be one of {', '.join(spec.values)}; got {value!r}"
    if spec.format == "MultiValueList":
        if _is_text_list(value) and set(value) <= set(spec.values):
            return None
        return f"must be an array of {', '.join(spec.values)}; got {value!r}"
    check = _CHECKS.get(spec.format, _is_text)
    if not check(value):
        return f"must be {_EXPECTED.get(spec.format, 'a string')}, got {value!r}"
    if spec.format == "ManagedTag":
        unknown = sorted(set(value) - tag_values)
        if unknown:
            return f"holds tag value(s) that do not exist in the client space: {', '.join(unknown)}"
    return None


@dataclass(frozen=True)
class Metamodel:
    """System attributes, the seeded custom attributes, tags and technologies of one client space."""

    custom: tuple[AttributeSpec, ...]
    tags: tuple[str, ...]
    technologies: tuple[tuple[str, str], ...]  # (technologyCode, displayName)

    def attributes(self, data_type: str | None = None) -> list[AttributeSpec]:
        everything = (*SYSTEM_ATTRIBUTES, *self.custom)
        if data_type is None:
            return list(everything)
        return [a for a in everything if a.data_type in (data_type, "Common")]

    def lookup(self, data_type: str) -> dict[str, AttributeSpec]:
        """The keys a node of this dataType may carry."""
        return {a.key: a for a in self.attributes(data_type)}

    def technology_codes(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.technologies)

    def values(self, data_type: str, attribute_key: str) -> list[dict[str, str]] | None:
        if attribute_key == "tags":
            return [{"key": t, "value": t} for t in self.tags]
        spec = self.lookup(data_type).get(attribute_key)
        if spec is None:
            return None
        return [{"key": v, "value": v} for v in spec.values]


def custom_attributes_of(seed: Seed) -> list[AttributeSpec]:
    return [
        AttributeSpec(a.name, a.name, a.format, a.data_type, is_custom=True, values=a.values)
        for a in seed.custom_attributes
    ]


def metamodel_of(seed: Seed) -> Metamodel:
    return Metamodel(tuple(custom_attributes_of(seed)), seed.tags, seed.technologies)
