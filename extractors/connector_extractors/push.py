"""The step after extraction: hand the metadata to the DataGalaxy client (`connector_extractors.datagalaxy`).

The client is imported when needed, so that `--dry-run` and `--check` without a target never depend
on it. The token comes from `OLC_DATAGALAXY_TOKEN` or the file named by `OLC_DATAGALAXY_TOKEN_FILE`.

What the push needs before the metadata (the client's import, the workspace and version, the owner check,
the target's technologies and attributes: four or five reads, each spaced by the client's throttle) does
not depend on the extraction, so `TargetPreparation` does it in a thread while the extraction runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_config import RunConfig, TargetConfig
from connector_extractors.run_summary import PushCounts

if TYPE_CHECKING:
    from connector_extractors.datagalaxy import DataGalaxyClient, ResolvedTarget
    from connector_extractors.datagalaxy.push import Preparation


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


@dataclass
class Prepared:
    client: DataGalaxyClient
    resolved: ResolvedTarget
    preparation: Preparation


class TargetPreparation:
    """The target's side of an import, started before the extraction and finished in a thread.

    `result()` waits for it and raises what it raised (a bad token, an unknown workspace, a source owned
    by another connection), so those errors surface where they did before, after the extraction; an
    extraction that fails first wins and does not wait for it, and `close()` releases the connection.
    """

    def __init__(self, config: RunConfig, token: str | None) -> None:
        # The client's modules load here, before the thread starts: only the network waits overlap the
        # extraction (imports hold the interpreter anyway), and no module is imported by two threads.
        import connector_extractors.datagalaxy.push  # noqa: F401, PLC0415

        self._config = config
        self._token = token
        self._prepared: Prepared | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="datagalaxy-target", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._prepared = prepare(self._config, self._token)
        except BaseException as error:  # handed to the main thread by result()
            self._error = error

    def result(self) -> Prepared:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._prepared is not None
        return self._prepared

    def close(self) -> None:
        """Release the connection. A preparation still running (say, retrying an unavailable DataGalaxy
        within the push budget) is not waited for: the extraction failed, and the run ends now."""
        if self._thread.is_alive():
            return  # a daemon thread: it ends with the process
        if self._prepared is not None:
            self._prepared.client.close()


def prepare(config: RunConfig, token: str | None) -> Prepared:
    """Open the client, resolve the workspace and version, claim the source, learn the vocabulary."""
    from connector_extractors.datagalaxy import DataGalaxyClient, resolve_target  # noqa: PLC0415
    from connector_extractors.datagalaxy.push import prepare_push  # noqa: PLC0415

    target = _target(config)
    budget = config.timeouts.push_budget_seconds
    client = DataGalaxyClient(target.api_url, _token(token), budget_seconds=budget)
    try:
        resolved = resolve_target(client, target)
        preparation = prepare_push(client, resolved, target, config.source.technology)
    except BaseException:
        client.close()
        raise
    return Prepared(client, resolved, preparation)


def push(
    config: RunConfig, token: str | None, metadata: SourceMetadata, prepared: Prepared | None = None
) -> PushResult:
    """Resolve the target (unless `prepared` did) and push `metadata` to it.

    The client's content hash covers the target's identity as well as the metadata: that is the hash
    the summary reports after a push, and the one the operator hands back as `previousContentHash`.
    """
    from connector_extractors.datagalaxy import push_metadata  # noqa: PLC0415

    target = _target(config)
    prepared = prepared or prepare(config, token)
    client = prepared.client
    client.restart_budget()  # the push's budget counts from here, not from the start of the extraction
    try:
        outcome = push_metadata(
            client,
            prepared.resolved,
            metadata,
            target,
            missing_objects=config.missing_objects,
            previous_content_hash=config.previous_content_hash,
            preparation=prepared.preparation,
        )
    finally:
        client.close()
    resolved = prepared.resolved
    return PushResult(
        counts=outcome.counts,
        unchanged=bool(outcome.unchanged),
        warnings=list(outcome.warnings),
        failed_objects=int(outcome.failed_objects),
        target=f"workspace {target.workspace!r}, version {resolved.version_name!r}",
        content_hash=outcome.content_hash,
    )
