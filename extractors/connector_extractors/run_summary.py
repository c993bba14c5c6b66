"""The run summary: what the extractor reports back, at most 4 KiB of JSON.

It is written to the container's termination-message path (the operator reads it from the pod's
`state.terminated.message`) and printed in a readable form on stdout.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BYTES = 4096
Result = Literal["Succeeded", "PartialSuccess", "Unchanged", "Failed"]


class PushCounts(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    missing: int = Field(default=0, description="Objects under the target source no longer in the source")


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
