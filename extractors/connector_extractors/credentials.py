"""Secrets for a run: from an environment variable or a file named by `<VAR>_FILE`, never a command line.

The file form suits Kubernetes Secrets mounted as volumes. Each value is normalised once, here, where it
is read: one trailing line break (`\\n` or `\\r\\n`, what `echo value > file; kubectl create secret
--from-file` leaves) is dropped, as `kubectl` users expect, and an empty value counts as absent. The
DataGalaxy token is then checked to be sendable in an HTTP header: a token that is not is
`TokenRejected` at once (never retried), and the message says what is wrong without quoting it.
Values are returned to the caller and never logged.

The CA that signs the source's TLS certificate is no secret; it comes from `OLC_SOURCE_CA` (PEM text,
from a Secret key) or `OLC_SOURCE_CA_FILE`, and is handed to the drivers as a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.run_config import ENV_SOURCE_CA

# RFC 9110 token68 / printable ASCII without spaces: what an `Authorization` header value may carry.
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


def normalise(value: str) -> str:
    """`value` without one trailing line break (LF or CRLF, or a lone CR)."""
    for ending in ("\r\n", "\n", "\r"):
        if value.endswith(ending):
            return value[: -len(ending)]
    return value


def read_secret(variable: str) -> str | None:
    """The normalised value of `variable`, else of the file named by `<variable>_FILE`, else None."""
    value = os.environ.get(variable)
    if value:
        return normalise(value) or None
    file_name = os.environ.get(f"{variable}_FILE")
    if not file_name:
        return None
    try:
        return normalise(Path(file_name).read_text(encoding="utf-8")) or None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION,
            f"Cannot read the secret file named by {variable}_FILE ({file_name}): {reason}.",
        ) from None


def read_token(variable: str) -> str | None:
    """The DataGalaxy token, or `TokenRejected` if it cannot be sent in a header (never quoted)."""
    token = read_secret(variable)
    if token is not None and not _HEADER_SAFE.match(token):
        raise ConnectorError(
            ErrorCategory.TOKEN_REJECTED,
            f"The DataGalaxy token ({variable}) holds characters that cannot be sent in an HTTP header "
            "(spaces, line breaks, control or non-ASCII characters).",
            "Put the token alone in the Secret's key, with no surrounding spaces or extra lines.",
        )
    return token


def source_ca_file() -> str | None:
    """A file with the source's CA certificates (PEM), when one is configured."""
    named = os.environ.get(f"{ENV_SOURCE_CA}_FILE")
    if named:
        return named
    pem = os.environ.get(ENV_SOURCE_CA, "").strip()
    if not pem:
        return None
    handle, path = tempfile.mkstemp(prefix="olc-source-ca-", suffix=".pem")
    with os.fdopen(handle, "w") as file:
        file.write(pem + "\n")
    return path
