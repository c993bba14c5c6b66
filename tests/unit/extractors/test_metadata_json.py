"""The streamed encoders write exactly the bytes of the former stdlib encoders (hash and dry-run file)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from connector_extractors.metadata import (
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    SourceMetadata,
    Table,
    UniqueConstraint,
)
from connector_extractors.metadata_json import content_hash, write_document

# Every character class the escaping rules tell apart: controls (short and \u forms), quote, backslash,
# DEL, Latin-1, BMP (CJK, line separators, BOM) and astral (surrogate pairs when ASCII-escaped).
AWKWARD = "".join(chr(i) for i in range(0x00, 0x100)) + "日本語\u2028\u2029\ufeff😀𝄞 end"


def reference_hash(metadata: SourceMetadata) -> str:
    text = json.dumps(metadata.to_dict(), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def reference_document(metadata: SourceMetadata, digest: str) -> bytes:
    text = json.dumps({"contentHash": digest, **metadata.to_dict()}, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def awkward_table(name: str) -> Table:
    return Table(
        name=name,
        kind="table",
        columns=[
            Column("id", 1, "bigint", "integer", False),
            Column(AWKWARD, 2, 'numeric(12,2) "q"', "decimal", True, None, 12, 2, "0.00", AWKWARD),
            Column("ünïcode", 3, "character varying(20)", "string", True, 20, comment="C'est \\ ça"),
            Column("mood", 4, "mood", "string", True, enum_values=("sad", AWKWARD, ',"enum_values":null')),
            Column(',"enum_values":null', 5, "text", "string", True, default=',"enum_values":null}'),
        ],
        comment=AWKWARD,
        primary_key=PrimaryKey(None, ("id",)),
        foreign_keys=[ForeignKey("fk", ("id", AWKWARD), "other", "t", ("a", "b"))],
        unique_constraints=[UniqueConstraint("u", ("ünïcode",))],
        indexes=[Index("i", ("id",), unique=True)],
        partitions=["p1", "p2"],
    )


MODELS = {
    "empty": SourceMetadata("postgresql", None),
    "empty schemas": SourceMetadata("sqlite", "file.db", [Schema("a"), Schema("b")]),
    "awkward": SourceMetadata(
        "postgresql",
        "base ✓",
        [
            Schema("main", [awkward_table("t1"), Table("v", "view", view_definition="SELECT 1\n")]),
            Schema("empty"),
            Schema(AWKWARD, [awkward_table(AWKWARD)]),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_hash_and_the_document_are_the_former_bytes(name: str) -> None:
    metadata = MODELS[name]
    digest = content_hash(metadata)
    assert digest == reference_hash(metadata)
    assert metadata.content_hash() == digest
    stream = io.BytesIO()
    size = write_document(metadata, digest, stream)
    assert stream.getvalue() == reference_document(metadata, digest)
    assert size == len(stream.getvalue())


def test_a_lone_surrogate_still_hashes_like_the_standard_module() -> None:
    metadata = SourceMetadata("sqlite", "x", [Schema("bad \udcff", [])])
    assert content_hash(metadata) == reference_hash(metadata)


def test_the_hash_follows_every_field() -> None:
    base = MODELS["awkward"]
    changed = SourceMetadata(base.technology, base.database, [Schema("main", [awkward_table("t2")])])
    assert content_hash(changed) != content_hash(base)


def test_the_push_path_sends_the_former_bytes_too() -> None:
    from connector_extractors.datagalaxy import bulktree

    table = awkward_table(AWKWARD)
    for value in (bulktree.table_node(table), bulktree.model_fields(Schema(AWKWARD)), {"n": None, "f": 1.5}):
        assert bulktree._dumps(value) == json.dumps(value, separators=(",", ":"))
