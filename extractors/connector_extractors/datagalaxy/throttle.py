"""A self-imposed request rate: DataGalaxy delays every request beyond 8/s by 500 ms, so stay under it.

How the service counts is not documented (a count over the last second, or a minimum spacing: the
simulator has both), and what it counts is when requests *arrive*: network jitter can bring two starts
spaced exactly 1/rate apart closer, or nine starts into one second. So starts are spaced 5 % wider than
1/rate (131 ms at 8/s): at most ~7.6 starts a second, and room for 6 ms of jitter on every interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DOCUMENTED_RATE = 8.0  # requests/s beyond which DataGalaxy delays each request (API reference 2.31)
MARGIN = 1.05  # spacing = MARGIN / rate


class Throttle:
    """Spaces request starts at least 1.05/rate seconds apart (rate <= 0 disables it)."""

    def __init__(
        self,
        requests_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = MARGIN / requests_per_second if requests_per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def wait(self) -> float:
        """Block until the next request may start; return how long it waited."""
        if self.interval == 0.0:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next_slot)
            self._next_slot = start + self.interval
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay
