"""Spec -> RunConfig: the non-secret JSON the extractor reads from `OLC_RUN_CONFIG`."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from connector_extractors.run_config import (
    Filters,
    IncludeOptions,
    PatternFilter,
    RunConfig,
    SourceConfig,
    SourceTls,
    TargetConfig,
    Timeouts,
)
from connector_operator.models import OnlineConnectionSpec


def target_key(spec: OnlineConnectionSpec) -> str:
    """Identity of the DataGalaxy target: a content hash only applies to the same target."""
    target = spec.target
    raw = json.dumps([target.api_url, target.workspace, target.version, target.source_name])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def render(
    spec: OnlineConnectionSpec,
    *,
    namespace: str,
    name: str,
    mode: Literal["import", "check"] = "import",
    previous_content_hash: str | None = None,
) -> RunConfig:
    source = spec.source
    target = spec.target
    return RunConfig(
        mode=mode,
        connection=f"{namespace}/{name}",
        source=SourceConfig(
            technology=source.technology,
            host=source.host,
            port=source.port,
            database=source.database,
            username=source.username,
            path=source.path,
            options=dict(source.options),
            tls=SourceTls(mode=source.tls.mode),
        ),
        target=TargetConfig(
            apiUrl=target.api_url,
            workspace=target.workspace,
            version=target.version,
            sourceName=target.source_name,
            technologyCode=target.technology_code,
        ),
        filters=Filters(
            schemas=PatternFilter(include=spec.filters.schemas.include, exclude=spec.filters.schemas.exclude),
            tables=PatternFilter(include=spec.filters.tables.include, exclude=spec.filters.tables.exclude),
            includeSystemSchemas=spec.filters.include_system_schemas,
        ),
        include=IncludeOptions(
            views=spec.include.views,
            comments=spec.include.comments,
            primaryKeys=spec.include.primary_keys,
            foreignKeys=spec.include.foreign_keys,
            uniqueConstraints=spec.include.unique_constraints,
            viewDefinitions=spec.include.view_definitions,
            indexes=spec.include.indexes,
            partitions=spec.include.partitions,
        ),
        strict=spec.strict,
        missingObjects=spec.missing_objects,
        previousContentHash=previous_content_hash if mode == "import" else None,
        timeouts=Timeouts(
            connectSeconds=spec.run.connect_timeout_seconds,
            statementSeconds=spec.run.statement_timeout_seconds,
        ),
    )


def render_json(config: RunConfig) -> str:
    return json.dumps(
        config.model_dump(by_alias=True, exclude_none=True), separators=(",", ":"), sort_keys=True
    )
