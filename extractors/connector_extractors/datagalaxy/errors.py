"""How DataGalaxy's answers become the run's error categories, without ever carrying the token.

401 and 403 mean the token (TokenRejected); 404 means whatever the caller was looking for (a workspace, a
version, a source); other 4xx mean DataGalaxy refused what was sent (PayloadRejected, with its message);
5xx, 429 and network failures are retried and become TargetUnavailable once retries or budget run out.
"""

from __future__ import annotations

import json

import httpx

from connector_extractors.errors import ConnectorError, ErrorCategory

_MAX_SERVER_MESSAGE = 500


class DataGalaxyError(ConnectorError):
    """A ConnectorError that also records the HTTP status DataGalaxy answered (None: no answer)."""

    def __init__(
        self, category: ErrorCategory, message: str, hint: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(category, message, hint)
        self.status = status


class Redactor:
    """Removes known secrets from any text that may end up in a log line or an error."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if secret:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def server_message(response: httpx.Response) -> str:
    """The `error.message` of the documented error body, or a short excerpt of whatever came back."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    message: str | None = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
        elif isinstance(error, str):
            message = error
        elif isinstance(body.get("message"), str):
            message = body["message"]
    if message is None:
        text = response.text.strip() if body is None else json.dumps(body)
        message = text or response.reason_phrase or "no message"
    return message[:_MAX_SERVER_MESSAGE]


def error_for_status(
    response: httpx.Response, what: str, not_found: ErrorCategory, redact: Redactor
) -> DataGalaxyError:
    status = response.status_code
    message = redact(server_message(response))
    if status == 401:
        return DataGalaxyError(
            ErrorCategory.TOKEN_REJECTED,
            f"DataGalaxy refused the token while {what} (HTTP 401: {message})",
            "Check that the token is a valid personal access token or integration token of this "
            "DataGalaxy environment and that it was not revoked.",
            status,
        )
    if status == 403:
        return DataGalaxyError(
            ErrorCategory.TOKEN_REJECTED,
            f"The token has no access while {what} (HTTP 403: {message})",
            "Grant the token's user Access or Admin rights in the workspace (Workspace → Settings → Access).",
            status,
        )
    if status == 404:
        return DataGalaxyError(not_found, f"Not found while {what} (HTTP 404: {message})", None, status)
    return DataGalaxyError(
        ErrorCategory.PAYLOAD_REJECTED,
        f"DataGalaxy rejected the request while {what} (HTTP {status}: {message})",
        None,
        status,
    )


def unavailable(what: str, attempts: int, last: str) -> DataGalaxyError:
    return DataGalaxyError(
        ErrorCategory.TARGET_UNAVAILABLE,
        f"DataGalaxy is unavailable: gave up {what} after {attempts} attempt(s); last failure: {last}",
        "The run can be retried: pushes are idempotent and converge to the same end state.",
    )
