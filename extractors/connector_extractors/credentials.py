"""Secrets for a run: from an environment variable or a file named by `<VAR>_FILE`, never a command line.

The file form suits Kubernetes Secrets mounted as volumes; the trailing newline that editors add is
dropped. Values are returned to the caller and never logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from connector_extractors.errors import ConnectorError, ErrorCategory


def read_secret(variable: str) -> str | None:
    """The value of `variable`, else the content of the file named by `<variable>_FILE`, else None."""
    value = os.environ.get(variable)
    if value:
        return value
    file_name = os.environ.get(f"{variable}_FILE")
    if not file_name:
        return None
    try:
        return Path(file_name).read_text().rstrip("\r\n") or None
    except OSError as exc:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION,
            f"Cannot read the secret file named by {variable}_FILE ({file_name}): {exc.strerror}.",
        ) from None
