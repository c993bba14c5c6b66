"""Domains, enums and sets: the pure pieces (PostgreSQL base-type resolution, MySQL member parsing, JSON)."""

from __future__ import annotations

import json

import pytest

from connector_extractors.inspection.mysql import enum_values
from connector_extractors.inspection.postgresql import resolve_user_type
from connector_extractors.metadata import Column, Schema, SourceMetadata, Table


def test_a_domain_takes_family_and_facets_from_its_base() -> None:
    numeric_12_2 = (12 << 16 | 2) + 4
    assert resolve_user_type(1700, numeric_12_2, "numeric(12,2)", None) == ("decimal", None, 12, 2, None)
    assert resolve_user_type(25, -1, "text", None) == ("string", None, None, None, None)
    assert resolve_user_type(1043, 12, "character varying(8)", None) == ("string", 8, None, None, None)
    assert resolve_user_type(1007, -1, "integer[]", None) == ("array", None, None, None, None)


def test_an_enum_is_a_string_with_its_labels() -> None:
    assert resolve_user_type(None, None, None, ["a", "b"]) == ("string", None, None, None, ("a", "b"))
    # a domain over an enum: the enum's labels
    assert resolve_user_type(16400, -1, "mood", ["x"]) == ("string", None, None, None, ("x",))


@pytest.mark.parametrize(
    ("column_type", "expected"),
    [
        ("enum('new','gold')", ("new", "gold")),
        ("ENUM('x')", ("x",)),
        ("set('it''s','a b','')", ("it's", "a b", "")),
        ("enum('a,b','c)')", ("a,b", "c)")),
        ("varchar(20)", None),
        ("settings", None),
    ],
)
def test_mysql_enum_and_set_members(column_type: str, expected: tuple[str, ...] | None) -> None:
    assert enum_values(column_type) == expected


def test_enum_values_appear_in_the_document_only_when_present() -> None:
    plain = Column("id", 1, "integer", "integer", False)
    mood = Column("mood", 2, "mood", "string", True, enum_values=("sad", "ok"))
    metadata = SourceMetadata("postgresql", "db", [Schema("s", [Table("t", "table", [plain, mood])])])
    columns = metadata.to_dict()["schemas"][0]["tables"][0]["columns"]
    assert "enum_values" not in columns[0]
    assert json.loads(json.dumps(columns[1]))["enum_values"] == ["sad", "ok"]
    without = SourceMetadata("postgresql", "db", [Schema("s", [Table("t", "table", [plain])])])
    assert list(without.to_dict()["schemas"][0]["tables"][0]["columns"][0]) == [
        "name", "position", "sql_type", "type_family", "nullable", "length", "precision", "scale",
        "default", "comment",
    ]  # fmt: skip
