"""`--check`: can the Job reach and read the source, and resolve the DataGalaxy target? Imports nothing.

It logs in to the source read-only, counts the schemas and tables it can see after the filters (which
proves it can read the catalog), and, when a target is configured, resolves the workspace and version
with the token. The answer is a `RunSummary` in check mode, like any run.
"""

from __future__ import annotations

import logging
import time

from connector_extractors.error_mapping import classify
from connector_extractors.errors import ConnectorError
from connector_extractors.extract import open_session
from connector_extractors.push import resolve_only
from connector_extractors.run_config import RunConfig
from connector_extractors.run_summary import RunSummary

log = logging.getLogger(__name__)


def run_check(config: RunConfig, password: str | None, token: str | None) -> RunSummary:
    started = time.monotonic()
    with open_session(config, password) as session:
        try:
            schemas = session.visible_schemas()
            objects = session.reader.count_objects(schemas, session.request)
        except ConnectorError:
            raise
        except Exception as exc:
            raise classify(exc, session.spec, password, "extract") from None
        where = session.spec.address
    user = config.source.username
    message = (
        f"Connected to the {config.source.technology} source {where}"
        + (f" as {user!r}" if user else "")
        + f" (read-only): {len(schemas)} schemas and {objects} tables and views visible."
    )
    log.info("%s", message)
    if config.target is not None:
        resolved = resolve_only(config, token)
        message += f" DataGalaxy target resolved: {resolved}."
    return RunSummary(
        mode="check",
        result="Succeeded",
        message=message,
        counts={"schemas": len(schemas), "tables": objects},
        durationSeconds=round(time.monotonic() - started, 3),
    )
