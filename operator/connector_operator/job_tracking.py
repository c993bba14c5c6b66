"""Which Jobs of a connection are running, without a LIST call per request.

kopf keeps an index of the operator's Jobs (fed by the Job watch the operator needs anyway, and
complete before any handler runs). A Job this process has just created may not be in the index
yet, so creations are remembered for a short while until the index shows them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connector_operator import naming, owned
from connector_operator import status as status_rules

RECENT_SECONDS = 60.0


@dataclass(frozen=True)
class JobState:
    name: str
    active: bool
    controller: str | None = None  # uid of the Job's controller (the connection, or its CronJob)


def index_entry(body: Mapping[str, Any]) -> dict[tuple[str, str], JobState]:
    """The index key (connection uid, mode) and state of one Job."""
    metadata = body.get("metadata") or {}
    labels = metadata.get("labels") or {}
    uid, mode = labels.get(naming.CONNECTION_UID_LABEL), labels.get(naming.MODE_LABEL)
    if not uid or not mode:
        return {}
    plain = {"spec": dict(body.get("spec") or {}), "status": dict(body.get("status") or {})}
    found = owned.controller(body)
    state = JobState(str(metadata.get("name")), status_rules.job_active(plain), found[2] if found else None)
    return {(str(uid), str(mode)): state}


class ActiveJobs:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.index: Mapping[Any, Iterable[Any]] | None = None
        self._clock = clock
        self._recent: dict[tuple[str, str], dict[str, float]] = {}
        self._lock = threading.Lock()

    def attach(self, index: Mapping[Any, Iterable[Any]] | None) -> None:
        """Use kopf's Job index (handed to every handler) once it exists."""
        if index is not None:
            self.index = index

    def created(self, uid: str, mode: str, name: str) -> None:
        with self._lock:
            self._recent.setdefault((uid, mode), {})[name] = self._clock()

    def seen(self, body: Mapping[str, Any]) -> None:
        """A watch event for a Job: the index knows it now (or it is gone), so drop it from `recent`."""
        for (uid, mode), state in index_entry(body).items():
            with self._lock:
                recent = self._recent.get((uid, mode))
                if recent is not None:
                    recent.pop(state.name, None)
                    if not recent:
                        del self._recent[(uid, mode)]

    def active(self, uid: str, mode: str, trusted: Collection[str] | None = None) -> list[str] | None:
        """Names of the running Jobs, or None when there is no index yet (the caller must LIST).

        With `trusted`, only Jobs whose controller is one of those uids count: a Job that merely
        carries the labels (anyone with `edit` can create one) never blocks the connection's runs.
        """
        if self.index is None:
            return None
        states = [
            s
            for s in self.index.get((uid, mode), [])
            if isinstance(s, JobState) and (trusted is None or s.controller in trusted)
        ]
        known = {s.name for s in states}
        names = {s.name for s in states if s.active}
        now = self._clock()
        with self._lock:
            recent = self._recent.get((uid, mode), {})
            for name, at in list(recent.items()):
                if name in known or now - at > RECENT_SECONDS:
                    del recent[name]
                else:
                    names.add(name)
            if not recent:
                self._recent.pop((uid, mode), None)
        return sorted(names)
