"""Spec -> RunConfig: the non-secret JSON the extractor reads from `OLC_RUN_CONFIG`.

The spec's sections are handed over through the models, not copied field by field: each section is
dumped by alias and validated by the matching RunConfig model, which keeps only the fields it
declares (so Secret references never reach the configuration). A field added to both models travels
without a change here; `tests/unit/operator/test_run_config_render.py` fails when a spec field of a
shared section has no counterpart in the run configuration.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal, TypeVar

from pydantic import BaseModel

from connector_extractors.run_config import (
    Filters,
    IncludeOptions,
    RunConfig,
    SourceConfig,
    TargetConfig,
    Timeouts,
)
from connector_operator.models import OnlineConnectionSpec

ModelT = TypeVar("ModelT", bound=BaseModel)


def target_key(spec: OnlineConnectionSpec) -> str:
    """Identity of the DataGalaxy target: a content hash only applies to the same target."""
    target = spec.target
    raw = json.dumps([target.api_url, target.workspace, target.version, target.source_name])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def shared(section: BaseModel, model: type[ModelT]) -> ModelT:
    """`section` (a spec model) as `model` (a RunConfig model), through the fields both declare."""
    data = section.model_dump(by_alias=True, mode="json")
    known = {field.alias or name for name, field in model.model_fields.items()} | set(model.model_fields)
    return model.model_validate({key: value for key, value in data.items() if key in known})


# Spec fields of the shared sections that are not for the extractor (it gets the Secret's value
# through an environment variable, never the reference).
NOT_FOR_THE_EXTRACTOR = frozenset({"passwordSecretRef", "tokenSecretRef"})


def render(
    spec: OnlineConnectionSpec,
    *,
    namespace: str,
    name: str,
    mode: Literal["import", "check"] = "import",
    previous_content_hash: str | None = None,
    uid: str | None = None,
    cluster_id: str | None = None,
) -> RunConfig:
    """`cluster_id` + namespace/name: the owner marker on the DataGalaxy source; `uid` (the connection's)
    recognises the previous version's marker, and is the marker when no cluster id is known."""
    owner = (
        {"owner_cluster": cluster_id, "owner_connection": f"{namespace}/{name}", "owner_uid": uid}
        if uid or cluster_id
        else {}
    )
    return RunConfig(
        mode=mode,
        connection=f"{namespace}/{name}",
        source=shared(spec.source, SourceConfig),
        target=shared(spec.target, TargetConfig).model_copy(update=owner),
        filters=shared(spec.filters, Filters),
        include=shared(spec.include, IncludeOptions),
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
