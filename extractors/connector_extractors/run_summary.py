"""The run summary: what the extractor reports back, at most 4 KiB of JSON.

It is written to the container's termination-message path (the operator reads it from the pod's
`state.terminated.message`) and printed in a readable form on stdout.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_BYTES = 4096
Result = Literal["Succeeded", "PartialSuccess", "Unchanged", "Failed"]  # the summary's wire form


class RunResult(StrEnum):
    """The result of a run, as the operator records it; the first three count as successes."""

    SUCCEEDED = "Succeeded"
    PARTIAL_SUCCESS = "PartialSuccess"  # some objects failed and were reported (see warningCount)
    UNCHANGED = "Unchanged"  # nothing changed since the last push
    FAILED = "Failed"

    @property
    def successful(self) -> bool:
        return self in SUCCESSFUL_RESULTS


SUCCESSFUL_RESULTS: frozenset[RunResult] = frozenset(
    {RunResult.SUCCEEDED, RunResult.PARTIAL_SUCCESS, RunResult.UNCHANGED}
)


class PushCounts(BaseModel):
    """What the DataGalaxy push did (also the `push` of a run record in the connection's status)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    created: int = Field(default=0, ge=0, description="Objects created in DataGalaxy.")
    updated: int = Field(default=0, ge=0, description="Objects updated in DataGalaxy.")
    unchanged: int = Field(default=0, ge=0, description="Objects already up to date.")
    deleted: int = Field(
        default=0, ge=0, description="Objects deleted from DataGalaxy (missingObjects: delete)."
    )
    missing: int = Field(
        default=0, ge=0, description="Objects in DataGalaxy that are no longer in the source."
    )


def _printable_text(text: str) -> str:
    return "".join(c if c.isprintable() or c == " " else " " for c in text)


class RunSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    v: Literal[1] = 1
    mode: Literal["import", "check"] = "import"
    result: Result
    error_category: str | None = Field(default=None, alias="errorCategory")
    message: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    push: PushCounts | None = None
    duration_seconds: float = Field(default=0.0, alias="durationSeconds")
    warnings: list[str] = Field(default_factory=list)
    warning_count: int = Field(default=0, alias="warningCount")
    content_hash: str | None = Field(default=None, alias="contentHash")

    @field_validator("message", "error_category", "content_hash")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        """Server text (database errors, DataGalaxy answers) and a pod's termination message are input:
        control and format characters (escape sequences, bidi marks, NULs) never reach status or logs."""
        return None if value is None else _printable_text(value)

    @field_validator("warnings")
    @classmethod
    def _printable_warnings(cls, value: list[str]) -> list[str]:
        return [_printable_text(item) for item in value]

    def to_json(self) -> str:
        """Serialise within MAX_BYTES: drops warnings, then shortens the message, as needed."""
        summary = self.model_copy(deep=True)
        summary.warning_count = max(summary.warning_count, len(summary.warnings))
        while True:
            text = json.dumps(summary.model_dump(by_alias=True, exclude_none=True), separators=(",", ":"))
            if len(text.encode()) <= MAX_BYTES:
                return text
            if summary.warnings:
                summary.warnings = summary.warnings[: len(summary.warnings) // 2]
                summary.warnings = [w[:200] for w in summary.warnings]
            elif len(summary.message) > 200:
                summary.message = summary.message[:200] + "…"
            else:
                summary.counts = {}

    @classmethod
    def from_termination_message(cls, text: str) -> RunSummary | None:
        try:
            return cls.model_validate_json(text)
        except ValueError:
            return None
