"""Waiting for a positive signal, the one way tests wait.

A test that needs something to happen polls for the thing itself (a status field, an Event, a Job) and
fails with what it waited for and the last value it saw. It never sleeps for a while and then asserts that
something did not happen: to show that an input was ignored, wait for a later signal that proves the
operator has processed it (an Event, `status.observedGeneration`), then assert.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The signal never came: the message says what was awaited, for how long, and the last value."""


def wait_for(
    predicate: Callable[[], T | None],
    *,
    timeout: float = 60,
    interval: float = 0.25,
    what: str = "the condition",
) -> T:
    """Call `predicate` until it returns a truthy value, and return that value.

    Raises WaitTimeout after `timeout` seconds. The predicate is called at least once, and once more at
    the deadline, so a slow call does not lose the last chance.
    """
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what} (last value: {last!r})")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
