"""The connect deadline: a server that accepts and never answers cannot hang a Job."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from connector_extractors.extract import NoAnswerError, connect_within


class FakeEngine:
    def __init__(self, delay: float, error: Exception | None = None) -> None:
        self.delay = delay
        self.error = error
        self.released = threading.Event()

    def connect(self) -> Any:
        self.released.wait(self.delay)
        if self.error is not None:
            raise self.error
        return "connection"


def test_a_prompt_connect_returns_the_connection() -> None:
    connected: object = connect_within(FakeEngine(0), 5)  # type: ignore[arg-type]
    assert connected == "connection"


def test_a_connect_error_is_raised_in_the_caller() -> None:
    with pytest.raises(ValueError, match="boom"):
        connect_within(FakeEngine(0, ValueError("boom")), 5)  # type: ignore[arg-type]


def test_a_silent_server_times_out() -> None:
    engine = FakeEngine(60)
    started = time.monotonic()
    with pytest.raises(NoAnswerError, match="timed out"):
        connect_within(engine, 0.2)  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    engine.released.set()
