"""The two documented rate limits: an hourly request quota and a per-second throttle.

Documented (API reference 2.31.x): 28,800 requests/hour, beyond which "your IP will be blocked for 15
minutes"; 8 requests/s, beyond which "each request will be delayed by 500ms". Every answer carries
`X-RateLimit-Remaining`. The simulator keeps one window for every caller, since they all come from the
loopback address. How the 8 requests/s are counted is not documented, so both readings exist behind
`Limits.throttle_model`: a count over the last second ("window", the default), or a minimum spacing
between request starts ("spacing", a leaky bucket without burst, as nginx's `limit_req` does).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from connector_testbed.simulator.faults import Limits

SPACING_JITTER = 0.005  # "spacing": how much sooner than 1/rate a start may arrive (clock and network)


@dataclass(frozen=True)
class Admission:
    allowed: bool
    remaining: int
    delay: float = 0.0  # throttle delay to apply before handling
    retry_after: float = 0.0  # when refused: seconds until the block ends


class RateLimiter:
    def __init__(self, clock: collections.abc.Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._count = 0
        self._blocked_until = 0.0
        self._recent: collections.deque[float] = collections.deque()
        self._last_start: float | None = None

    def reset(self) -> None:
        with self._lock:
            self._window_start = self._clock()
            self._count = 0
            self._blocked_until = 0.0
            self._recent.clear()
            self._last_start = None

    def admit(self, limits: Limits) -> Admission:
        with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                return Admission(False, 0, retry_after=self._blocked_until - now)
            if now - self._window_start >= 3600.0:
                self._window_start = now
                self._count = 0
            self._count += 1
            if self._count > limits.quota_per_hour:
                self._blocked_until = now + limits.block_seconds
                # After the block the caller starts a fresh hour.
                self._window_start = self._blocked_until
                self._count = 0
                return Admission(False, 0, retry_after=limits.block_seconds)
            remaining = max(limits.quota_per_hour - self._count, 0)
            if limits.throttle_model == "spacing":
                previous, self._last_start = self._last_start, now
                early = previous is not None and now - previous < 1.0 / limits.throttle_rps - SPACING_JITTER
                return Admission(True, remaining, delay=limits.throttle_delay if early else 0.0)
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            self._recent.append(now)
            delay = limits.throttle_delay if len(self._recent) > limits.throttle_rps else 0.0
            return Admission(True, remaining, delay=delay)
