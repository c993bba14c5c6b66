"""The bulktree mapping and its batching."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_extractors.datagalaxy.bulktree import (
    API_MAX_ENTITIES,
    BatchLimits,
    column_data_type,
    column_node,
    encode_tables,
    iter_batches,
    source_fields,
)
from connector_extractors.datagalaxy.vocabulary import Vocabulary
from connector_extractors.metadata import Column, Schema, SourceMetadata, Table
from tests.fixtures.simulator import sample_metadata, wide_metadata


def _count(node: dict[str, Any]) -> int:
    return 1 + sum(_count(c) for c in node.get("children", []))


def _leaves(node: dict[str, Any], prefix: str = "") -> set[str]:
    path = f"{prefix}\\{node['technicalName']}"
    children = node.get("children", [])
    if not children:
        return {path + "|" + node["type"]}
    return set().union(*(_leaves(c, path) for c in children))


SOURCE = source_fields("shop", "postgresql")


def test_one_batch_holds_the_whole_sample_in_the_documented_shape() -> None:
    [batch] = list(iter_batches(sample_metadata(), SOURCE))
    body = json.loads(batch.body)
    assert {k: body[k] for k in ("name", "technicalName", "type", "technologyCode")} == {
        "name": "shop",
        "technicalName": "shop",
        "type": "Relational",
        "technologyCode": "postgresql",
    }
    assert [m["type"] for m in body["children"]] == ["Model", "Model"]
    assert batch.entities == _count(body) == 1 + 2 + 6 + 16
    for node in (body, *body["children"]):
        assert set(node) >= {"name", "type", "children"}


def test_columns_carry_only_system_attribute_keys() -> None:
    [batch] = list(iter_batches(sample_metadata(), SOURCE))
    sales = json.loads(batch.body)["children"][1]
    orders = next(t for t in sales["children"] if t["name"] == "orders")
    total = orders["children"][2]
    assert total == {
        "name": "total",
        "technicalName": "total",
        "type": "Column",
        "columnDataType": "Decimal",
        "isMandatory": False,
        "order": 3,
        "technicalComments": "",
        "size": 12,
        "dataTypePrecisionSize": 2,
    }
    view = next(t for t in sales["children"] if t["name"] == "big_orders")
    assert all("technologyCode" not in m for m in json.loads(batch.body)["children"])
    assert (view["type"], view["technicalComments"]) == ("View", "Orders over 1000")


@pytest.mark.parametrize(
    ("sql_type", "family", "expected"),
    [
        ("varchar(10)", "string", "VariableString"),
        ("character varying(320)", "string", "VariableString"),
        ("nvarchar(50)", "string", "VariableString"),
        ("nchar(5)", "string", "FixedString"),
        ("char(2)", "string", "FixedString"),
        ("character(3)", "string", "FixedString"),
        ("text", "string", "LongText"),
        ("bigint", "integer", "Integer"),
        ("numeric", "decimal", "Decimal"),
        ("double precision", "float", "Numeric"),
        ("timestamp with time zone", "timestamp", "TimeStamp"),
        ("bytea", "binary", "Binary"),
        ("jsonb", "json", "LongText"),
        ("geometry", "other", "String"),
    ],
)
def test_column_data_types_map_to_the_datagalaxy_enum(sql_type: str, family: str, expected: str) -> None:
    column = Column("c", 1, sql_type, family, True)  # type: ignore[arg-type]
    assert column_data_type(column) == expected


@pytest.mark.parametrize(
    ("max_entities", "max_bytes"), [(50, 1 << 20), (1000, 4096), (7, 2048), (200, 10_000)]
)
def test_batches_respect_the_limits_and_cover_everything_once(max_entities: int, max_bytes: int) -> None:
    metadata = wide_metadata(tables=25, columns_per_table=6, schemas=3)
    metadata.schemas.append(Schema("zz_empty", []))
    batches = list(iter_batches(metadata, SOURCE, BatchLimits(max_entities, max_bytes)))
    leaves: set[str] = set()
    total_leaves = 0
    for batch in batches:
        body = json.loads(batch.body)
        assert batch.entities == _count(body) <= max_entities
        assert len(batch.body) <= max_bytes
        found = _leaves(body)
        total_leaves += len(found)
        leaves |= found
    assert total_leaves == len(leaves) == 3 * 25 * 6 + 1  # every column once, plus the empty schema
    assert len(batches) > 1


def test_a_table_wider_than_a_batch_is_split_over_several() -> None:
    table = Table("wide", "table", [Column(f"c{i}", i + 1, "int", "integer", True) for i in range(20)])
    metadata = SourceMetadata("postgresql", "db", [Schema("s", [table])])
    batches = list(iter_batches(metadata, SOURCE, BatchLimits(max_entities=8)))
    assert len(batches) == 4  # 5 columns per batch
    columns = [
        c["name"] for b in batches for c in json.loads(b.body)["children"][0]["children"][0]["children"]
    ]
    assert columns == [f"c{i}" for i in range(20)]
    assert all(b.tables == [("s", "wide")] for b in batches)


def test_limits_must_stay_within_the_documented_ones() -> None:
    with pytest.raises(ValueError, match="max_entities"):
        BatchLimits(max_entities=API_MAX_ENTITIES + 1)
    with pytest.raises(ValueError, match="max_bytes"):
        BatchLimits(max_bytes=101 * 1024 * 1024)


def test_non_ascii_names_are_measured_in_bytes() -> None:
    table = Table("tåble", "table", [Column("é" * 50, 1, "int", "integer", True, comment="日本" * 20)])
    metadata = SourceMetadata("postgresql", "db", [Schema("s", [table] * 10)])
    for batch in iter_batches(metadata, SOURCE, BatchLimits(max_bytes=2048)):
        assert len(batch.body) <= 2048
        json.loads(batch.body)


def test_the_sql_type_and_default_go_only_under_custom_attributes_the_target_has() -> None:
    column = Column("code", 1, "character varying(20)", "string", nullable=False, length=20, default="'x'")
    plain = column_node(column)
    assert "Technical data type" not in plain
    assert plain["size"] == 20
    assert plain["isMandatory"] is True
    vocabulary = Vocabulary(custom_keys={"sql_type": "Technical data type", "default": "Default value"})
    node = column_node(column, vocabulary)
    assert (node["Technical data type"], node["Default value"]) == ("character varying(20)", "'x'")


def test_batches_from_the_encoded_tables_are_the_batches_encoded_on_the_fly() -> None:
    metadata = wide_metadata(tables=25, columns_per_table=6, schemas=3)
    metadata.schemas.append(Schema("zz_empty", []))
    wide = Table("wide", "table", [Column(f"c{i}", i + 1, "int", "integer", True) for i in range(20)])
    metadata.schemas[0].tables.append(wide)  # wider than a batch: split, encoded apart
    limits = BatchLimits(max_entities=12, max_bytes=4096)
    encoded = encode_tables(metadata)
    from_encoded = [
        (b.body, b.entities, b.tables) for b in iter_batches(metadata, SOURCE, limits, encoded=encoded)
    ]
    on_the_fly = [(b.body, b.entities, b.tables) for b in iter_batches(metadata, SOURCE, limits)]
    assert from_encoded == on_the_fly
    assert encoded == [[], [], [], []]  # each schema's JSON let go once its batches were built
