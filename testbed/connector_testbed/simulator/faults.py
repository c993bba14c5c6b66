"""Runtime switches: injected faults and the service limits, both settable while the server runs.

`Faults` are things a real service does when it is unwell (5xx, latency, dropped connections, a batch
that fails half-way, a token store that refuses everyone). `Limits` are the documented limits (rate,
throttle, entity count, payload size), which tests shrink to reach them quickly.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0  # probability that an API request answers `error_status`
    error_status: int = 503
    fail_next: int = 0  # the next N API requests answer `error_status`
    drop_rate: float = 0.0  # probability that the connection is closed without an answer
    drop_next: int = 0
    drop_after_next: int = 0  # the next N API requests are handled (and committed), then the answer is lost
    latency_ms: int = 0  # added to every API request
    mid_batch_fail_next: int = 0  # the next N bulktree requests write half of the batch, then answer 500
    rate_limit_next: int = 0  # the next N API requests answer 429
    bad_token: bool = False  # every token is refused
    refused_keys: tuple[str, ...] = ()  # key rows naming one of these (pkName / fkTechnicalName) get a 400
    seed: int = 0


@dataclass(frozen=True)
class Limits:
    max_entities: int = 250_000  # per bulktree request
    max_bytes: int = 100 * 1024 * 1024  # per request body
    quota_per_hour: int = 28_800  # requests; beyond it the caller is blocked
    block_seconds: float = 900.0  # how long a caller over quota is blocked ("15 minutes")
    throttle_rps: float = 8.0  # beyond this rate each request is delayed
    throttle_delay: float = 0.5  # by this much ("500ms")
    # How "8 requests/s" is counted is not documented: "window" = more than throttle_rps starts in the
    # last second; "spacing" = a start sooner than 1/throttle_rps after the previous one (a leaky bucket
    # without burst, less a few ms of jitter). A client must stay clear of both (ratelimit.py).
    throttle_model: str = "window"
    send_retry_after: bool = False  # Retry-After on 429 (the real API does not document it)
    composite_foreign_keys: bool = True  # whether FK rows sharing a name form one composite FK
    unknown_attributes: str = "refuse"  # an unknown or ill-typed attribute: "refuse" (400) or "drop"
    ms_per_mib: float = 20.0  # added handling time per MiB of request body
    gateway_timeout_bytes: int = 48 * 1024 * 1024  # a body above this takes longer than the gateway waits


def _coerce(cls: type[Any], current: Any, changes: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(changes) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__.lower()} switch(es): {', '.join(sorted(unknown))}")
    if changes.get("unknown_attributes", "refuse") not in ("refuse", "drop"):
        raise ValueError("unknown_attributes must be 'refuse' or 'drop'")
    if changes.get("throttle_model", "window") not in ("window", "spacing"):
        raise ValueError("throttle_model must be 'window' or 'spacing'")
    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    return replace(current, **changes)


class Switchboard:
    """The live faults and limits, and the counters of the `*_next` faults, shared by all threads."""

    def __init__(self, faults: Faults | None = None, limits: Limits | None = None) -> None:
        self._initial_faults = faults or Faults()
        self._initial_limits = limits or Limits()
        self._lock = threading.Lock()
        self.faults = self._initial_faults
        self.limits = self._initial_limits
        self._random = random.Random(self.faults.seed)

    def reset(self) -> None:
        with self._lock:
            self.faults = self._initial_faults
            self.limits = self._initial_limits
            self._random = random.Random(self.faults.seed)

    def set_faults(self, changes: dict[str, Any]) -> Faults:
        with self._lock:
            self.faults = _coerce(Faults, self.faults, changes)
            if "seed" in changes:
                self._random = random.Random(self.faults.seed)
            return self.faults

    def set_limits(self, changes: dict[str, Any]) -> Limits:
        with self._lock:
            self.limits = _coerce(Limits, self.limits, changes)
            return self.limits

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"faults": asdict(self.faults), "limits": asdict(self.limits)}

    def _take(self, name: str, rate_name: str | None = None) -> bool:
        with self._lock:
            count = getattr(self.faults, name)
            if count > 0:
                self.faults = replace(self.faults, **{name: count - 1})
                return True
            if rate_name is not None:
                rate = float(getattr(self.faults, rate_name))
                return rate > 0 and self._random.random() < rate
            return False

    def take_drop(self) -> bool:
        return self._take("drop_next", "drop_rate")

    def take_drop_after(self) -> bool:
        return self._take("drop_after_next")

    def take_error(self) -> bool:
        return self._take("fail_next", "error_rate")

    def take_rate_limit(self) -> bool:
        return self._take("rate_limit_next")

    def take_mid_batch_failure(self) -> bool:
        return self._take("mid_batch_fail_next")
