"""The extractor's entry point: `python -m connector_extractors` / `online-connector-extract`.

    online-connector-extract --config run.json             # extract and push to DataGalaxy
    online-connector-extract --config run.json --dry-run --output metadata.json
    online-connector-extract --config run.json --check     # reach, log in, read the catalog; import nothing

The configuration is the RunConfig JSON (docs/run-config.md) from `--config FILE` or the `OLC_RUN_CONFIG`
environment variable. Secrets come only from the environment or files: `OLC_SOURCE_PASSWORD[_FILE]`,
`OLC_DATAGALAXY_TOKEN[_FILE]`. The summary (at most 4 KiB of JSON) is written to the path in
`OLC_TERMINATION_MESSAGE_PATH` (default /dev/termination-log when writable), a readable version goes to
stdout, and the exit code is the error category's (0 on success).

Start-up is part of every run: each mode imports only what it uses (`python -X importtime` shows it).
A dry run never loads the DataGalaxy client (httpx), nor does a check without a target; SQLAlchemy
loads the configured technology's driver only. tests/unit/extractors/test_start_up.py holds that.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pydantic import ValidationError

from connector_extractors import report
from connector_extractors.credentials import read_secret, read_token
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_config import (
    ENV_DATAGALAXY_TOKEN,
    ENV_RUN_CONFIG,
    ENV_SOURCE_PASSWORD,
    ENV_TERMINATION_MESSAGE_PATH,
    RunConfig,
)
from connector_extractors.run_summary import RunSummary

if TYPE_CHECKING:
    from connector_extractors.extract import Extraction

log = logging.getLogger("connector_extractors")
DEFAULT_TERMINATION_PATH = "/dev/termination-log"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="online-connector-extract",
        description="Extract technical metadata from a SQL source (read-only) and push it to DataGalaxy.",
    )
    parser.add_argument("--config", type=Path, help=f"RunConfig JSON file (default: ${ENV_RUN_CONFIG})")
    parser.add_argument("--check", action="store_true", help="test the connection and the target only")
    parser.add_argument("--dry-run", action="store_true", help="extract but do not push")
    parser.add_argument(
        "--output", type=Path, help="with --dry-run: write the metadata JSON here ('-': stdout)"
    )
    parser.add_argument(
        "--show-tree",
        action="store_true",
        help="with --dry-run: print the exact bulktree bodies and key rows a push would send",
    )
    parser.add_argument("--log-level", default=os.environ.get("OLC_LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


def load_config(path: Path | None) -> RunConfig:
    try:
        if path is not None:
            text = path.read_text()
        else:
            text = os.environ.get(ENV_RUN_CONFIG, "")
            if not text:
                raise ConnectorError(
                    ErrorCategory.INVALID_CONFIGURATION,
                    f"No run configuration: pass --config FILE or set {ENV_RUN_CONFIG}.",
                )
        return RunConfig.model_validate_json(text)
    except OSError as exc:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION, f"Cannot read the configuration file {path}: {exc.strerror}."
        ) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()[:10]
        )
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION, f"Invalid run configuration: {problems}"
        ) from None


def termination_path() -> Path | None:
    configured = os.environ.get(ENV_TERMINATION_MESSAGE_PATH)
    if configured:
        return Path(configured)
    default = Path(DEFAULT_TERMINATION_PATH)
    return default if default.exists() and os.access(default, os.W_OK) else None


def write_summary(summary: RunSummary) -> None:
    path = termination_path()
    if path is not None:
        try:
            path.write_text(summary.to_json())
        except OSError as exc:
            log.warning("cannot write the summary to %s: %s", path, exc.strerror)
    print(report.render(summary), flush=True)


def write_metadata(target: Path, metadata: SourceMetadata, content_hash: str) -> None:
    """The dry-run document, streamed to the file (or stdout) as it is encoded."""
    from connector_extractors.metadata_json import write_document  # noqa: PLC0415 - dry runs only

    if str(target) == "-":
        sys.stdout.flush()
        write_document(metadata, content_hash, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    with target.open("wb") as stream:
        size = write_document(metadata, content_hash, stream)
    log.info("metadata written to %s (%d bytes)", target, size)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while SQLAlchemy and the driver load and the extraction runs.

    Loading them allocates a few hundred thousand objects, none of them garbage, and the collector's
    passes over them cost about 0.1 s of CPU per run; the extraction itself builds no cycles either.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _extract(config: RunConfig, password: str | None) -> Extraction:
    with collector_paused():
        from connector_extractors.extract import extract  # noqa: PLC0415 - SQLAlchemy: not for a bad config

        return extract(config, password)


def _described(config: RunConfig, counts: dict[str, int]) -> str:
    return (
        f"{counts['schemas']} schemas, {counts['tables']} tables, {counts['views']} views and "
        f"{counts['columns']} columns from {config.source.technology}"
    )


def dry_run(
    config: RunConfig, args: argparse.Namespace, password: str | None, token: str | None
) -> RunSummary:
    started = time.monotonic()
    extraction = _extract(config, password)
    metadata = extraction.metadata
    counts = metadata.counts()
    warnings = list(extraction.warnings)
    content_hash = metadata.content_hash()
    if args.output is not None:
        write_metadata(args.output, metadata, content_hash)
    if args.show_tree:
        from connector_extractors.datagalaxy.preview import show  # noqa: PLC0415

        for text in show(config, token, metadata):
            sys.stdout.write(text + "\n")
    return RunSummary(
        mode="import",
        result="PartialSuccess" if warnings else "Succeeded",
        message=f"Dry run: extracted {_described(config, counts)}; nothing pushed.",
        counts=counts,
        durationSeconds=round(time.monotonic() - started, 3),
        warnings=warnings,
        contentHash=content_hash,
    )


def run_import(
    config: RunConfig, args: argparse.Namespace, password: str | None, token: str | None
) -> RunSummary:
    if args.dry_run:
        return dry_run(config, args, password, token)
    started = time.monotonic()
    from connector_extractors.push import TargetPreparation, push  # noqa: PLC0415 - not for dry runs

    target = TargetPreparation(config, token)  # the target's reads, in a thread while the extraction runs
    try:
        extraction = _extract(config, password)
        metadata = extraction.metadata
        counts = metadata.counts()
        warnings = list(extraction.warnings)
        if warnings and config.missing_objects == "delete":
            # Objects the extraction skipped (no privilege, unreadable) look dropped: never delete then.
            config = config.model_copy(update={"missing_objects": "report"})
            warnings.append("Objects missing from the source were not deleted: the extraction skipped some")
        outcome = push(config, token, metadata, target.result())
    finally:
        target.close()
    # The client's hash covers the target too; the model's own (seconds on huge catalogs) only as a fallback.
    content_hash = outcome.content_hash or metadata.content_hash()
    warnings += outcome.warnings
    if outcome.unchanged:
        result, verb = "Unchanged", "nothing changed since the last import"
    elif warnings or outcome.failed_objects:
        result, verb = "PartialSuccess", f"pushed with {outcome.failed_objects} objects failed"
    else:
        result, verb = "Succeeded", "pushed"
    return RunSummary(
        mode="import",
        result=result,  # type: ignore[arg-type]
        message=f"Extracted {_described(config, counts)}; {verb} to {outcome.target}.",
        counts=counts,
        push=outcome.counts,
        durationSeconds=round(time.monotonic() - started, 3),
        warnings=warnings,
        contentHash=content_hash,
    )


def failed(mode: str, error: ConnectorError, started: float, *secrets: str | None) -> RunSummary:
    from connector_extractors.error_mapping import scrub  # noqa: PLC0415 - failures only

    message = scrub(error.message + (f" Hint: {error.hint}" if error.hint else ""), *secrets, limit=2000)
    return RunSummary(
        mode="check" if mode == "check" else "import",
        result="Failed",
        errorCategory=error.category.value,
        message=message,
        durationSeconds=round(time.monotonic() - started, 3),
    )


def _exit_on_sigterm() -> None:
    """Stop when the pod is deleted. As a container's PID 1 the process would ignore SIGTERM (the kernel
    drops signals that PID 1 does not handle) and run on for the whole grace period, found on a real node;
    exit like a signal death (143) so the Job records a failed attempt."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv: Sequence[str] | None = None) -> int:
    _exit_on_sigterm()
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    started = time.monotonic()
    mode = "check" if args.check else "import"
    password: str | None = None
    token: str | None = None
    try:
        config = load_config(args.config)
        if config.mode == "check":
            mode = "check"
        password = read_secret(ENV_SOURCE_PASSWORD)
        token = read_token(ENV_DATAGALAXY_TOKEN)
        if mode == "check":
            from connector_extractors.check import run_check  # noqa: PLC0415 - check mode only

            summary = run_check(config, password, token)
        else:
            summary = run_import(config, args, password, token)
    except ConnectorError as error:
        from connector_extractors.error_mapping import scrub  # noqa: PLC0415 - failures only

        log.error("%s", scrub(str(error), password, token, limit=2000))
        summary = failed(mode, error, started, password, token)
        write_summary(summary)
        return error.exit_code
    except Exception as exc:  # a bug: report it as InternalError, without secrets
        from connector_extractors.error_mapping import scrub  # noqa: PLC0415 - failures only

        details = scrub(traceback.format_exc(), password, token, limit=8000)
        log.error("internal error: %s", details)
        internal = ConnectorError(
            ErrorCategory.INTERNAL_ERROR,
            f"Internal error: {type(exc).__name__}: {scrub(str(exc), password, token)}",
        )
        write_summary(failed(mode, internal, started))
        return internal.exit_code
    write_summary(summary)
    return 0


def run() -> NoReturn:
    """The console script: `main()`, then an exit that skips the interpreter's teardown.

    Tearing down a process that holds a whole model (hundreds of thousands of objects, SQLAlchemy,
    pydantic) costs 0.1 to 0.17 s for 2,000 tables, a tenth of a dry run, and has nothing left to do by
    then: the output file, the summary and the connections are closed, the push is done. Standard
    streams and log handlers are flushed first; a `main()` that raises exits the ordinary way.
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
