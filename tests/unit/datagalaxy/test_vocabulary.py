"""What the target understands: technology codes and custom attributes, decided without HTTP."""

from __future__ import annotations

import pytest

from connector_extractors.datagalaxy.vocabulary import custom_keys, resolve_technology
from connector_extractors.errors import ConnectorError, ErrorCategory

TECHNOLOGIES = [
    {"technologyCode": "PostgreSQL-2", "displayName": "PostgreSQL"},
    {"technologyCode": "mssql", "displayName": "Microsoft SQL Server"},
    {"technologyCode": "azuresql", "displayName": "Azure SQL Database"},
]


def test_a_requested_code_must_be_one_of_the_targets() -> None:
    assert resolve_technology("azuresql", "postgresql", TECHNOLOGIES) == ("azuresql", [])
    with pytest.raises(ConnectorError) as caught:
        resolve_technology("azure-sql", "postgresql", TECHNOLOGIES)
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert caught.value.message.startswith("spec.target.technologyCode 'azure-sql'")
    assert "closest known: 'azuresql'" in caught.value.message


def test_the_source_technology_matches_a_code_or_a_display_name() -> None:
    assert resolve_technology(None, "postgresql", TECHNOLOGIES) == ("PostgreSQL-2", [])
    assert resolve_technology(None, "sqlserver", TECHNOLOGIES) == ("mssql", [])
    code, warnings = resolve_technology(None, "duckdb", TECHNOLOGIES)
    assert code is None
    assert "no technology for 'duckdb'" in warnings[0]
    assert "spec.target.technologyCode" in warnings[0]


def test_an_unreadable_catalogue_sends_the_requested_code_unchecked() -> None:
    assert resolve_technology("x", "postgresql", None)[0] == "x"
    assert resolve_technology(None, "postgresql", None)[0] is None


def test_custom_attributes_are_used_only_when_they_exist_as_editable_text() -> None:
    attributes = [
        {"name": "technical data type", "isCustom": True, "format": "Text"},
        {"name": "Default value", "isCustom": True, "format": "Number"},
        {"name": "Allowed values", "isCustom": False, "format": "Text"},
    ]
    assert custom_keys(attributes) == {"sql_type": "technical data type"}
    assert custom_keys(None) == {}
