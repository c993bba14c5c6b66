"""PostgreSQL user-defined types on a real server: domains resolve to their base, enums keep their labels."""

from __future__ import annotations

from typing import Any

import pytest

from connector_extractors.extract import extract
from connector_extractors.metadata import Column
from connector_extractors.run_config import RunConfig
from connector_testbed.postgres import PostgresServer
from tests.integration.extractors.runner import without_sql_types

pytestmark = pytest.mark.integration
DB = "olc_extract_pg_types"

TYPES_SQL = """
CREATE SCHEMA kinds;
CREATE DOMAIN kinds.email AS text CHECK (VALUE LIKE '%@%');
CREATE DOMAIN kinds.work_email AS kinds.email;
CREATE DOMAIN kinds.amount AS numeric(12, 2);
CREATE DOMAIN kinds.positive_amount AS kinds.amount CHECK (VALUE >= 0);
CREATE DOMAIN kinds.code AS varchar(8);
CREATE DOMAIN kinds.stamp AS timestamp(3) with time zone;
CREATE TYPE kinds.mood AS ENUM ('sad', 'ok', 'it''s fine, really');
CREATE DOMAIN kinds.known_mood AS kinds.mood;
CREATE TABLE kinds.people (
    id integer PRIMARY KEY,
    email kinds.email NOT NULL,
    work kinds.work_email,
    paid kinds.positive_amount,
    code kinds.code,
    seen kinds.stamp,
    mood kinds.mood,
    usual kinds.known_mood,
    emails kinds.email[],
    moods kinds.mood[]
);
"""


@pytest.fixture(scope="module")
def catalog(postgres_server: PostgresServer) -> PostgresServer:
    postgres_server.create_database(DB)
    postgres_server.execute(DB, TYPES_SQL)
    return postgres_server


def config(server: PostgresServer) -> RunConfig:
    data: dict[str, Any] = {
        "source": {
            "technology": "postgresql",
            "host": server.host,
            "port": server.port,
            "database": DB,
            "username": server.admin_user,
        },
        "filters": {"schemas": {"include": ["kinds"]}},
    }
    return RunConfig.model_validate(data)


def columns(server: PostgresServer, fast: bool = True) -> dict[str, Column]:
    metadata = extract(config(server), server.admin_password, fast=fast).metadata
    return {c.name: c for c in metadata.schemas[0].tables[0].columns}


def facets(column: Column) -> tuple[str, int | None, int | None, int | None, tuple[str, ...] | None]:
    return column.type_family, column.length, column.precision, column.scale, column.enum_values


def test_domains_take_the_family_and_facets_of_their_base(catalog: PostgresServer) -> None:
    found = columns(catalog)
    assert facets(found["email"]) == ("string", None, None, None, None)
    assert found["email"].sql_type == "kinds.email"  # the declared type stays the type text
    assert facets(found["work"]) == ("string", None, None, None, None)  # a domain over a domain
    assert facets(found["paid"]) == ("decimal", None, 12, 2, None)  # facets from the innermost base
    assert facets(found["code"]) == ("string", 8, None, None, None)
    assert facets(found["seen"]) == ("timestamp", None, 3, None, None)


def test_enums_are_strings_with_their_labels(catalog: PostgresServer) -> None:
    found = columns(catalog)
    labels = ("sad", "ok", "it's fine, really")
    assert facets(found["mood"]) == ("string", None, None, None, labels)
    assert found["mood"].sql_type == "kinds.mood"
    assert facets(found["usual"]) == ("string", None, None, None, labels)  # a domain over an enum


def test_arrays_of_domains_and_enums_are_arrays(catalog: PostgresServer) -> None:
    found = columns(catalog)
    assert (found["emails"].type_family, found["emails"].enum_values) == ("array", None)
    assert (found["moods"].type_family, found["moods"].enum_values) == ("array", None)


def test_fast_path_equals_sqlalchemy_reflection_on_user_types(catalog: PostgresServer) -> None:
    """Same families and labels; SQLAlchemy drops the type modifier of a domain's base type
    (`numeric(12,2)` reflects as `NUMERIC`), so the facets of those domains are compared apart."""
    fast = without_sql_types(extract(config(catalog), catalog.admin_password).metadata.to_dict())
    general = without_sql_types(
        extract(config(catalog), catalog.admin_password, fast=False).metadata.to_dict()
    )
    for document in (fast, general):
        for column in document["schemas"][0]["tables"][0]["columns"]:
            if column["name"] in {"paid", "code", "seen"}:
                column.update(length=None, precision=None, scale=None)
    assert fast == general


def test_only_enum_columns_carry_enum_values_in_the_document(catalog: PostgresServer) -> None:
    document = extract(config(catalog), catalog.admin_password).metadata.to_dict()
    keyed = {c["name"]: c for c in document["schemas"][0]["tables"][0]["columns"]}
    assert "enum_values" not in keyed["email"]
    assert keyed["mood"]["enum_values"] == ("sad", "ok", "it's fine, really")
