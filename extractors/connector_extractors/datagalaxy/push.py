"""`push_metadata`: one extraction into one DataGalaxy target, idempotently.

Steps: who owns the target source and what the target understands (technologies and attributes, read
once; an unknown `technologyCode` fails here, before anything is written): `prepare_push`, which needs no
metadata, so the extractor runs it while the extraction runs → content hash (stop here when it equals
the last successful push's) → bulktree batches → the source's id → primary and foreign keys → objects no
longer in the source (report or delete; nothing to list when this run created the source).
Every step is an upsert or a set difference against what DataGalaxy holds, so a run that failed
anywhere converges to the same end state when it is run again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from connector_extractors.datagalaxy import ownership
from connector_extractors.datagalaxy.bulktree import (
    MAPPING_VERSION,
    BatchLimits,
    encode_tables,
    iter_batches,
    iter_table_json,
    source_fields,
)
from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.datagalaxy.keys import build_key_rows, push_keys
from connector_extractors.datagalaxy.missing import MissingMode, handle_missing
from connector_extractors.datagalaxy.target import ResolvedTarget
from connector_extractors.datagalaxy.vocabulary import Vocabulary, learn_vocabulary
from connector_extractors.errors import ErrorCategory
from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_config import TargetConfig
from connector_extractors.run_summary import PushCounts

log = logging.getLogger("connector_extractors.datagalaxy")


@dataclass
class PushOutcome:
    counts: PushCounts
    unchanged: bool
    warnings: list[str]
    failed_objects: int
    content_hash: str
    requests: int = 0
    source_id: str | None = None
    keys: dict[str, int] = field(default_factory=dict)
    refused_keys: list[str] = field(default_factory=list)  # keys DataGalaxy refused, by name


@dataclass(frozen=True)
class Preparation:
    """What a push learns about its target before it needs the metadata."""

    claimed: ownership.TargetSource | None  # the target source as it was before this run (None: new)
    vocabulary: Vocabulary
    source_attributes: dict[str, Any] | None  # extra real keys of the top node (the ownership marker)


def prepare_push(
    client: DataGalaxyClient,
    resolved: ResolvedTarget,
    target: TargetConfig,
    technology: str,
    source_attributes: dict[str, Any] | None = None,
) -> Preparation:
    """Claim the target source (nothing written yet) and learn the target's vocabulary: four reads."""
    owner = ownership.owner_of(target)
    claimed = ownership.claim_target(client, resolved.version_id, target)  # before anything is written
    vocabulary = learn_vocabulary(client, target.technology_code, technology)
    return Preparation(claimed, vocabulary, ownership.with_marker(source_attributes or {}, owner) or None)


def top_node(
    target: TargetConfig, vocabulary: Vocabulary, source_attributes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The source node every batch starts with; `source_attributes` are extra real keys (a marker)."""
    return source_fields(target.source_name, vocabulary.technology_code) | dict(source_attributes or {})


def content_hash(
    client: DataGalaxyClient,
    resolved: ResolvedTarget,
    metadata: SourceMetadata,
    target: TargetConfig,
    *,
    vocabulary: Vocabulary | None = None,
    source_attributes: dict[str, Any] | None = None,
    encoded: list[list[bytes]] | None = None,
) -> str:
    """sha256 of the target's identity and of exactly what would be sent, table by table (`encoded`: the
    tables' JSON as `encode_tables` made it, the very bytes the batches then send)."""
    vocabulary = vocabulary or Vocabulary()
    digest = hashlib.sha256()
    identity = {
        "mapping": MAPPING_VERSION,
        "apiUrl": client.api_url,
        "workspaceId": resolved.workspace_id,
        "versionId": resolved.version_id,
        "source": top_node(target, vocabulary, source_attributes),
        "vocabulary": vocabulary.identity(),
    }
    digest.update(json.dumps(identity, sort_keys=True).encode())
    for piece in iter_table_json(metadata, vocabulary, encoded):
        digest.update(b"\n")
        digest.update(piece)
    for schema in metadata.schemas:
        for table in schema.tables:
            keys = {
                "pk": [table.primary_key.name, list(table.primary_key.columns)]
                if table.primary_key
                else None,
                "fk": [
                    [f.name, list(f.columns), f.referred_schema, f.referred_table, list(f.referred_columns)]
                    for f in table.foreign_keys
                ],
            }
            digest.update(json.dumps(keys).encode())
    return "sha256:" + digest.hexdigest()


def find_source(client: DataGalaxyClient, version_id: str, source_name: str) -> dict[str, str] | None:
    for item in client.iter_pages(
        "/sources",
        {"versionId": version_id, "technicalName": source_name, "type": "Relational", "limit": 100},
        what=f"looking up source {source_name!r}",
    ):
        if item.get("technicalName") == source_name and item.get("type") == "Relational":
            return {"id": str(item["id"]), "path": str(item.get("path") or f"\\{source_name}")}
    return None


def _push_tree(
    client: DataGalaxyClient,
    resolved: ResolvedTarget,
    metadata: SourceMetadata,
    source: dict[str, object],
    *,
    limits: BatchLimits | None,
    outcome: PushOutcome,
    vocabulary: Vocabulary,
    encoded: list[list[bytes]] | None = None,
) -> set[tuple[str, str]]:
    """Send every batch; a rejected batch is reported and the others still go. Returns failed tables."""
    failed_tables: set[tuple[str, str]] = set()
    sent_schemas: set[str] = set()
    first_error: DataGalaxyError | None = None
    succeeded = 0
    batches = 0
    batches_of = iter_batches(metadata, source, limits, vocabulary, encoded)
    for number, batch in enumerate(batches_of, start=1):
        batches += 1
        what = f"pushing batch {number} ({batch.entities} objects)"
        try:
            result = client.send_json_bytes(
                "POST",
                f"/sources/bulktree/{resolved.version_id}",
                batch.body,  # one buffer, one send: a few thousand small writes cost more than the copy
                what=what,
                not_found=ErrorCategory.VERSION_NOT_FOUND,
            )
        except DataGalaxyError as error:
            if error.category is not ErrorCategory.PAYLOAD_REJECTED:
                raise
            first_error = first_error or error
            outcome.failed_objects += batch.entities
            failed_tables.update(batch.tables)
            outcome.warnings.append(f"Batch {number} ({batch.entities} objects) rejected: {error.message}")
            continue
        finally:
            batch.chunks.clear()  # the batch is done with: free it now, not when the next one is built
        succeeded += 1
        schemas = {schema for schema, _ in batch.tables}
        repeated = (1 if number > 1 else 0) + len(schemas & sent_schemas)
        sent_schemas |= schemas
        counts = result if isinstance(result, dict) else {}
        outcome.counts.created += int(counts.get("created") or 0)
        outcome.counts.updated += int(counts.get("updated") or 0)
        outcome.counts.unchanged += max(int(counts.get("unchanged") or 0) - repeated, 0)
        log.info("DataGalaxy: batch %d: %s", number, counts)
    if batches and not succeeded and first_error is not None:
        raise first_error
    return failed_tables


def push_metadata(  # noqa: PLR0917 - the interface the extractor calls
    client: DataGalaxyClient,
    resolved: ResolvedTarget,
    metadata: SourceMetadata,
    target: TargetConfig,
    missing_objects: MissingMode = "report",
    previous_content_hash: str | None = None,
    *,
    batch_limits: BatchLimits | None = None,
    source_attributes: dict[str, Any] | None = None,
    preparation: Preparation | None = None,
) -> PushOutcome:
    """`source_attributes`: extra attributes for the top node (real keys only, e.g. an ownership marker);
    `preparation`: `prepare_push`'s result when it ran already (with the same target)."""
    if preparation is None:
        preparation = prepare_push(client, resolved, target, metadata.technology, source_attributes)
    claimed, vocabulary = preparation.claimed, preparation.vocabulary
    source_attributes = preparation.source_attributes
    encoded = encode_tables(metadata, vocabulary)  # hashed, then sent: encoded once
    digest = content_hash(
        client,
        resolved,
        metadata,
        target,
        vocabulary=vocabulary,
        source_attributes=source_attributes,
        encoded=encoded,
    )
    outcome = PushOutcome(PushCounts(), False, [*resolved.warnings, *vocabulary.warnings], 0, digest)
    if (
        previous_content_hash is not None
        and digest == previous_content_hash
        and ownership.still_holds(client, resolved.version_id, claimed, metadata)
    ):
        log.info("DataGalaxy: metadata unchanged since the last successful push; nothing written")
        outcome.unchanged = True
        outcome.requests = client.requests_sent
        return outcome
    source = top_node(target, vocabulary, source_attributes)
    failed_tables: set[tuple[str, str]] = set()
    if metadata.schemas:
        failed_tables = _push_tree(
            client,
            resolved,
            metadata,
            source,
            limits=batch_limits,
            outcome=outcome,
            vocabulary=vocabulary,
            encoded=encoded,
        )
    # The source's id does not change with an upsert: look it up only when this run created it.
    found = (
        {"id": claimed.id, "path": claimed.path}
        if claimed is not None
        else find_source(client, resolved.version_id, target.source_name)
    )
    if found is None:
        if metadata.schemas:
            raise DataGalaxyError(
                ErrorCategory.TARGET_UNAVAILABLE,
                f"Source {target.source_name!r} cannot be found after it was pushed",
            )
        # bulktree refuses a source without children: create the empty source on its own.
        created = client.send_json(
            "POST", f"/sources/{resolved.version_id}", source, what=f"creating source {target.source_name!r}"
        )
        if not isinstance(created, dict) or not created.get("id"):
            raise DataGalaxyError(
                ErrorCategory.TARGET_UNAVAILABLE, f"Creating source {target.source_name!r} returned no id"
            )
        found = {"id": str(created["id"]), "path": f"\\{target.source_name}"}
        outcome.counts.created += 1
    elif not metadata.schemas:
        outcome.counts.unchanged += 1
    outcome.source_id = found["id"]
    rows = build_key_rows(metadata, failed_tables)
    if rows.primary or rows.single_foreign or rows.composite_foreign or rows.warnings:
        keys = push_keys(client, resolved.version_id, found["id"], rows)
        outcome.keys = keys.written
        outcome.warnings.extend(keys.warnings)
        outcome.refused_keys = keys.refused
    mode = missing_objects
    if claimed is None:
        # The source did not exist before this run: everything under it was written by this run, so
        # nothing can be missing from the source and no key can be stale. Nothing to list.
        mode = "ignore"
    if mode == "delete" and outcome.failed_objects:
        outcome.warnings.append(
            "Objects no longer in the source were not deleted because some batches failed"
        )
        mode = "report"
    missing = handle_missing(
        client,
        resolved.version_id,
        found["id"],
        found["path"],
        metadata=metadata,
        mode=mode,
        key_rows=build_key_rows(metadata) if failed_tables else rows,  # never call a key stale for a failure
    )
    outcome.counts.missing = missing.missing
    outcome.counts.deleted = missing.deleted
    outcome.keys["missing"] = missing.stale_keys
    outcome.keys["deleted"] = missing.deleted_keys
    outcome.warnings.extend(missing.warnings)
    if missing.stale_keys and mode == "report":
        outcome.warnings.append(
            f"{missing.stale_keys} key column(s) or foreign key(s) under source {target.source_name!r} were "
            "dropped at the source (set missingObjects: delete to remove them)"
        )
    if missing.missing and mode == "report":
        outcome.warnings.append(
            f"{missing.missing} object(s) under source {target.source_name!r} are no longer in the source "
            "(set missingObjects: delete to remove them)"
        )
    outcome.requests = client.requests_sent
    return outcome
