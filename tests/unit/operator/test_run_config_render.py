"""Spec -> run configuration: filters, include options, strict and missingObjects survive the trip,
and no spec field of a shared section is silently dropped."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from connector_extractors.run_config import Filters, IncludeOptions, RunConfig, SourceConfig, TargetConfig
from connector_operator import run_config_render
from connector_operator.models import OnlineConnectionSpec

RAW: dict[str, Any] = {
    "source": {
        "technology": "postgresql",
        "host": "db.example.com",
        "port": 5433,
        "database": "sales",
        "username": "reader",
        "passwordSecretRef": {"name": "db", "key": "password"},
        "options": {"keepalives_idle": "60"},
        "tls": {"mode": "verify-full", "caSecretRef": {"name": "db-ca", "key": "ca.crt"}},
    },
    "target": {
        "apiUrl": "https://api.datagalaxy.com/v2",
        "tokenSecretRef": {"name": "dg", "key": "token"},
        "workspace": "Sales",
        "version": "v2",
        "sourceName": "Sales DB",
        "technologyCode": "PostgreSQL",
    },
    "filters": {
        "schemas": {"include": ["sales", "crm_.*"], "exclude": ["crm_tmp"]},
        "tables": {"include": [".*"], "exclude": ["audit_.*"]},
        "includeSystemSchemas": True,
    },
    "include": {
        "views": False,
        "comments": False,
        "primaryKeys": False,
        "foreignKeys": False,
        "uniqueConstraints": False,
        "viewDefinitions": True,
        "indexes": True,
        "partitions": True,
    },
    "strict": True,
    "missingObjects": "delete",
    "run": {"connectTimeoutSeconds": 7, "statementTimeoutSeconds": 70},
}


def rendered(raw: dict[str, Any] = RAW) -> RunConfig:
    spec = OnlineConnectionSpec.model_validate(raw)
    text = run_config_render.render_json(
        run_config_render.render(spec, namespace="team", name="shop", previous_content_hash="h1")
    )
    return RunConfig.model_validate_json(text)  # as the extractor reads it


def test_filters_include_strict_and_missing_objects_survive_the_trip() -> None:
    config = rendered()
    assert config.filters.model_dump(by_alias=True) == RAW["filters"]
    assert config.include.model_dump(by_alias=True) == RAW["include"]
    assert config.strict is True
    assert config.missing_objects == "delete"
    assert config.previous_content_hash == "h1"
    assert (config.timeouts.connect_seconds, config.timeouts.statement_seconds) == (7, 70)
    assert config.connection == "team/shop"


def test_source_and_target_survive_without_secret_references() -> None:
    config = rendered()
    assert config.source.model_dump(by_alias=True, exclude_defaults=True) == {
        **{k: v for k, v in RAW["source"].items() if k != "passwordSecretRef"},
        "tls": {"mode": "verify-full"},  # the CA reaches the Job as OLC_SOURCE_CA, not in the configuration
    }
    assert config.target is not None
    assert config.target.model_dump(by_alias=True, exclude_defaults=True) == {
        k: v for k, v in RAW["target"].items() if k != "tokenSecretRef"
    }
    text = config.model_dump_json(by_alias=True)
    assert "SecretRef" not in text


def test_defaults_match_the_extractors_defaults() -> None:
    minimal = {k: RAW[k] for k in ("source", "target")}
    config = rendered(minimal)
    assert config.filters == Filters()
    assert config.include == IncludeOptions()
    assert (config.strict, config.missing_objects) == (False, "report")


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize(
    ("section", "target"),
    [("source", SourceConfig), ("target", TargetConfig), ("filters", Filters), ("include", IncludeOptions)],
)
def test_every_field_of_a_shared_section_reaches_the_extractor(section: str, target: type[BaseModel]) -> None:
    spec_model = OnlineConnectionSpec.model_fields[section].annotation
    assert isinstance(spec_model, type)
    assert issubclass(spec_model, BaseModel)
    missing = _aliases(spec_model) - _aliases(target) - run_config_render.NOT_FOR_THE_EXTRACTOR
    assert not missing, f"spec.{section} fields the run configuration drops: {sorted(missing)}"
