"""When to try a request again, and how long to wait first.

Retried: connection failures, timeouts, 5xx and 429. Never retried: 400, 401, 403, 404 and the other
4xx, since sending the same request again cannot change the answer. The wait is exponential backoff
with jitter (a random wait between half and all of the current step), raised to `Retry-After` when the
server sends one, and to `quota_wait` when a 429 says the hourly quota is spent
(`X-RateLimit-Remaining: 0`) without saying for how long.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


def is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """`Retry-After` is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now_epoch, 0.0)


def parse_remaining(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    quota_wait: float = 60.0

    def delay(
        self,
        attempt: int,
        *,
        retry_after: float | None = None,
        quota_exhausted: bool = False,
        rng: random.Random | None = None,
    ) -> float:
        """The wait before retry number `attempt` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        wait = (rng or random).uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            wait = max(wait, retry_after)
        elif quota_exhausted:
            wait = max(wait, self.quota_wait)
        return wait
