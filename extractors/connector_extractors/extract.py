"""One extraction: connect read-only, list and filter schemas, read the catalog, build the model.

Every failure leaves here as a `ConnectorError` of the taxonomy (see `error_mapping`). Progress goes to
the log as it goes. A table that cannot be inspected is a warning; in strict mode any warning fails
the run with `ExtractionFailed`.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from connector_extractors.error_mapping import classify, scrub
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.filters import NameFilter
from connector_extractors.inspection import CatalogReader, Progress, ReadRequest, reader_for
from connector_extractors.metadata import SourceMetadata
from connector_extractors.readonly import create_readonly_engine
from connector_extractors.run_config import RunConfig
from connector_extractors.urls import ConnectionSpec, build_connection

log = logging.getLogger(__name__)


@dataclass
class Extraction:
    metadata: SourceMetadata
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Session:
    """An open read-only connection and the reader for it."""

    spec: ConnectionSpec
    connection: Connection
    reader: CatalogReader
    request: ReadRequest
    password: str | None

    def visible_schemas(self) -> list[str]:
        """The schemas that pass the filters, in name order."""
        return sorted(s for s in self.reader.schema_names() if self.request.filter.schema_ok(s))


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the model is built.

    Building hundreds of thousands of small objects triggers the collector over and over, and each pass
    walks everything built so far; the model has no reference cycles, so nothing is lost by waiting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class NoAnswerError(TimeoutError):
    """The server accepted the connection but did not complete the login in time."""


def connect_within(engine: Engine, seconds: float) -> Connection:
    """`engine.connect()`, or `NoAnswerError` after `seconds`.

    Drivers' connect timeouts do not all cover the whole login: python-oracledb's bounds the TCP
    connect only, so a server (or a middlebox) that accepts and then stays silent would hang the Job.
    The connect runs in a daemon thread that is abandoned if it does not finish; the run then fails.
    """
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["connection"] = engine.connect()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name="connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise NoAnswerError(f"timed out: the server did not complete the login within {seconds:g}s")
    if "error" in outcome:
        raise outcome["error"]
    connection: Connection = outcome["connection"]
    return connection


@contextmanager
def open_session(config: RunConfig, password: str | None, fast: bool = True) -> Iterator[Session]:
    """Connect to the source read-only; errors are classified as connection failures."""
    source = config.source
    # In MySQL a schema is a database: a configured database is the one to read, unless patterns say more.
    only = source.database if source.technology in {"mysql", "mariadb"} else None
    request = ReadRequest(NameFilter.from_config(source.technology, config.filters, only), config.include)
    spec = build_connection(source, password, config.timeouts)
    engine = create_readonly_engine(spec, config.timeouts)
    log.info("connecting to %s (read-only)", spec.display)
    try:
        try:
            connection = connect_within(engine, config.timeouts.connect_seconds * 2 + 5)
        except Exception as exc:
            raise classify(exc, spec, password, "connect", config.timeouts.connect_seconds) from None
        try:
            yield Session(
                spec, connection, reader_for(connection, source.technology, fast), request, password
            )
        finally:
            connection.close()
    finally:
        engine.dispose()


def extract(config: RunConfig, password: str | None, fast: bool = True) -> Extraction:
    """Read the metadata of the configured source (read-only)."""
    started = time.monotonic()
    with open_session(config, password, fast) as session:
        try:
            schemas = session.visible_schemas()
            log.info(
                "%d schemas to read: %s",
                len(schemas),
                ", ".join(schemas[:20]) + (" …" if len(schemas) > 20 else ""),
            )
            progress = Progress(total_schemas=len(schemas))
            with gc_paused():
                result = session.reader.read(schemas, session.request, progress)
        except ConnectorError:
            raise
        except Exception as exc:
            raise classify(exc, session.spec, password, "extract") from None
    source = config.source
    # Every schema that passed the schema filters stays, even with no table left: table patterns select
    # tables only, and a schema dropped here would be a "missing" schema (deleted with missingObjects).
    kept = result.schemas
    # A file source is named by its file name: the mount path inside the pod is incidental.
    database = source.database or (Path(source.path).name if source.path else None)
    metadata = SourceMetadata(technology=source.technology, database=database, schemas=kept)
    metadata.sort()
    warnings = [scrub(w, password, limit=300) for w in result.warnings]  # driver text: never a secret
    extraction = Extraction(metadata, warnings, time.monotonic() - started)
    counts = metadata.counts()
    log.info(
        "extracted %d schemas, %d tables, %d views, %d columns in %.2fs (%d warnings)",
        counts["schemas"],
        counts["tables"],
        counts["views"],
        counts["columns"],
        extraction.seconds,
        len(extraction.warnings),
    )
    for warning in extraction.warnings:
        log.warning("%s", warning)
    if config.strict and extraction.warnings:
        raise ConnectorError(
            ErrorCategory.EXTRACTION_FAILED,
            f"{len(extraction.warnings)} objects could not be inspected and strict mode is on "
            f"(first: {extraction.warnings[0]})",
            "Fix the objects or their permissions, or turn strict mode off to import the rest.",
        )
    return extraction
