"""The step after extraction: hand the metadata to the DataGalaxy client (`connector_extractors.datagalaxy`).

The client is imported when needed, so that `--dry-run` and `--check` without a target never depend
on it. The token comes from `OLC_DATAGALAXY_TOKEN` or the file named by `OLC_DATAGALAXY_TOKEN_FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_config import RunConfig, TargetConfig
from connector_extractors.run_summary import PushCounts


@dataclass
class PushResult:
    counts: PushCounts
    unchanged: bool
    warnings: list[str] = field(default_factory=list)
    failed_objects: int = 0
    target: str = ""
    content_hash: str | None = None


def _target(config: RunConfig) -> TargetConfig:
    if config.target is None:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION,
            "No DataGalaxy target is configured for this import.",
            "Configure the target, or use --dry-run --output FILE to preview the metadata.",
        )
    return config.target


def _token(token: str | None) -> str:
    if not token:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION,
            "No DataGalaxy token: set OLC_DATAGALAXY_TOKEN or OLC_DATAGALAXY_TOKEN_FILE.",
        )
    return token


def resolve_only(config: RunConfig, token: str | None) -> str:
    """Resolve the workspace and version (for --check); returns a readable description.

    A target source that belongs to another connection fails the check too (read-only lookup)."""
    from connector_extractors.datagalaxy import DataGalaxyClient, resolve_target  # noqa: PLC0415
    from connector_extractors.datagalaxy.ownership import claim_target  # noqa: PLC0415

    target = _target(config)
    with DataGalaxyClient(
        target.api_url, _token(token), budget_seconds=config.timeouts.push_budget_seconds
    ) as client:
        resolved = resolve_target(client, target)
        claim_target(client, resolved.version_id, target)
    return f"workspace {target.workspace!r}, version {resolved.version_name!r}"


def push(config: RunConfig, token: str | None, metadata: SourceMetadata) -> PushResult:
    """Resolve the target and push `metadata` to it.

    The client's content hash covers the target's identity as well as the metadata: that is the hash
    the summary reports after a push, and the one the operator hands back as `previousContentHash`.
    """
    from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target  # noqa: PLC0415

    target = _target(config)
    with DataGalaxyClient(
        target.api_url, _token(token), budget_seconds=config.timeouts.push_budget_seconds
    ) as client:
        resolved = resolve_target(client, target)
        outcome = push_metadata(
            client,
            resolved,
            metadata,
            target,
            missing_objects=config.missing_objects,
            previous_content_hash=config.previous_content_hash,
        )
    return PushResult(
        counts=outcome.counts,
        unchanged=bool(outcome.unchanged),
        warnings=list(outcome.warnings),
        failed_objects=int(outcome.failed_objects),
        target=f"workspace {target.workspace!r}, version {resolved.version_name!r}",
        content_hash=outcome.content_hash,
    )
