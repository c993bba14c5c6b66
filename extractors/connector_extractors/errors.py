"""The error taxonomy of a run. Each category has its own process exit code.

Messages must never contain a secret: build them from host, port, names and the category only.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCategory(StrEnum):
    INVALID_CONFIGURATION = "InvalidConfiguration"
    DRIVER_MISSING = "DriverMissing"
    SOURCE_UNREACHABLE = "SourceUnreachable"
    AUTHENTICATION_FAILED = "AuthenticationFailed"
    PERMISSION_DENIED = "PermissionDenied"
    EXTRACTION_FAILED = "ExtractionFailed"
    TOKEN_REJECTED = "TokenRejected"  # noqa: S105 - a category name
    WORKSPACE_NOT_FOUND = "WorkspaceNotFound"
    VERSION_NOT_FOUND = "VersionNotFound"
    PAYLOAD_REJECTED = "PayloadRejected"
    TARGET_UNAVAILABLE = "TargetUnavailable"
    INTERNAL_ERROR = "InternalError"


EXIT_CODES: dict[ErrorCategory, int] = {
    ErrorCategory.INTERNAL_ERROR: 1,
    ErrorCategory.INVALID_CONFIGURATION: 2,
    ErrorCategory.DRIVER_MISSING: 3,
    ErrorCategory.SOURCE_UNREACHABLE: 4,
    ErrorCategory.AUTHENTICATION_FAILED: 5,
    ErrorCategory.PERMISSION_DENIED: 6,
    ErrorCategory.EXTRACTION_FAILED: 7,
    ErrorCategory.TOKEN_REJECTED: 8,
    ErrorCategory.WORKSPACE_NOT_FOUND: 9,
    ErrorCategory.VERSION_NOT_FOUND: 10,
    ErrorCategory.PAYLOAD_REJECTED: 11,
    ErrorCategory.TARGET_UNAVAILABLE: 12,
}

# Categories where retrying the same Job cannot help: the operator's podFailurePolicy fails the Job
# at once on these exit codes instead of spending its backoffLimit.
NON_RETRYABLE: frozenset[ErrorCategory] = frozenset(
    {
        ErrorCategory.INVALID_CONFIGURATION,
        ErrorCategory.DRIVER_MISSING,
        ErrorCategory.AUTHENTICATION_FAILED,
        ErrorCategory.PERMISSION_DENIED,
        ErrorCategory.TOKEN_REJECTED,
        ErrorCategory.WORKSPACE_NOT_FOUND,
        ErrorCategory.VERSION_NOT_FOUND,
        ErrorCategory.PAYLOAD_REJECTED,
    }
)


class ConnectorError(Exception):
    """A failure with a category, a secret-free message and an optional hint on what to do next."""

    def __init__(self, category: ErrorCategory, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.hint = hint

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.category]

    def __str__(self) -> str:
        return f"{self.category.value}: {self.message}" + (f" Hint: {self.hint}" if self.hint else "")
