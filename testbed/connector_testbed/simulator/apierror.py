"""The one error the simulator's routes raise: it becomes the documented `{"error": {...}}` body."""

from __future__ import annotations

import json


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> bytes:
        return json.dumps({"error": {"message": self.message, "status": self.status}}).encode()
