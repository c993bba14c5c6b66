"""`--dry-run --show-tree`: print exactly the requests a push would send, before the first real push.

The bulktree bodies and key rows are built by the same code as the push (bulktree.py, keys.py), with
the target's vocabulary read through GET requests only (technologies, attributes), so the preview is
what would be sent; nothing is written. Without a target or a token the vocabulary cannot be read: the
tree is then shown with the configured technologyCode (unchecked) and without custom attributes, and
says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from connector_extractors.datagalaxy.bulktree import BatchLimits, iter_batches, source_fields
from connector_extractors.datagalaxy.keys import ROWS_PER_REQUEST, build_key_rows
from connector_extractors.datagalaxy.vocabulary import Vocabulary
from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_config import RunConfig


def _rows_in_requests(keys: list[list[dict[str, object]]]) -> Iterator[list[dict[str, object]]]:
    request: list[dict[str, object]] = []
    for key in keys:
        if request and len(request) + len(key) > ROWS_PER_REQUEST:
            yield request
            request = []
        request.extend(key)
    if request:
        yield request


def render(
    metadata: SourceMetadata,
    source_name: str,
    vocabulary: Vocabulary,
    *,
    limits: BatchLimits | None = None,
    note: str | None = None,
) -> Iterator[str]:
    """The requests, in order, as text: a `#` line per request, then its JSON body."""
    if note:
        yield f"# {note}"
    for warning in vocabulary.warnings:
        yield f"# warning: {warning}"
    source = source_fields(source_name, vocabulary.technology_code)
    for number, batch in enumerate(iter_batches(metadata, source, limits, vocabulary), start=1):
        yield (
            f"# POST /sources/bulktree/{{versionId}}  (batch {number}: {batch.entities} objects, "
            f"{batch.size} bytes)"
        )
        yield json.dumps(json.loads(batch.body), indent=1, ensure_ascii=False)
    rows = build_key_rows(metadata)
    for route, keys in (
        ("primaryKeys", rows.primary),
        ("foreignKeys", rows.single_foreign),
        ("foreignKeys", rows.composite_foreign),
    ):
        for request in _rows_in_requests(keys):
            yield f"# PUT /sources/{{versionId}}/{{sourceId}}/{route}  ({len(request)} rows)"
            yield json.dumps(request, indent=1, ensure_ascii=False)
    for warning in rows.warnings:
        yield f"# not sent: {warning}"


def show(config: RunConfig, token: str | None, metadata: SourceMetadata) -> Iterator[str]:
    """The preview for a run configuration: the target's vocabulary is read when it can be."""
    target = config.target
    source_name = target.source_name if target else (metadata.database or "source")
    if target is None or not token:
        code = target.technology_code if target else None
        yield from render(
            metadata,
            source_name,
            Vocabulary(technology_code=code),
            note="no target or token: technologyCode not checked, custom attributes unknown",
        )
        return
    from connector_extractors.datagalaxy.client import DataGalaxyClient  # noqa: PLC0415
    from connector_extractors.datagalaxy.vocabulary import learn_vocabulary  # noqa: PLC0415

    budget = config.timeouts.push_budget_seconds
    with DataGalaxyClient(target.api_url, token, budget_seconds=budget) as client:
        vocabulary = learn_vocabulary(client, target.technology_code, metadata.technology)
    yield from render(metadata, source_name, vocabulary, note=f"read-only preview against {target.api_url}")
