"""The in-memory view of running Jobs (kopf index plus recent creations)."""

from __future__ import annotations

from typing import Any

from connector_operator import naming
from connector_operator.job_tracking import ActiveJobs, JobState, index_entry


def body(name: str, *, suspend: bool = False, done: bool = False) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {naming.CONNECTION_UID_LABEL: "u", naming.MODE_LABEL: "import"}},
        "spec": {"suspend": suspend},
        "status": {"conditions": [{"type": "Complete", "status": "True"}] if done else []},
    }


def test_index_entry() -> None:
    assert index_entry(body("a")) == {("u", "import"): JobState("a", True)}
    assert index_entry(body("a", suspend=True)) == {("u", "import"): JobState("a", False)}
    assert index_entry(body("a", done=True)) == {("u", "import"): JobState("a", False)}
    assert index_entry({"metadata": {"name": "x", "labels": {}}}) == {}


def test_without_an_index_the_caller_lists() -> None:
    assert ActiveJobs().active("u", "import") is None


def test_recent_creations_count_until_the_index_has_them() -> None:
    now = [100.0]
    jobs = ActiveJobs(clock=lambda: now[0])
    index: dict[Any, list[JobState]] = {}
    jobs.index = index
    jobs.created("u", "import", "a")
    assert jobs.active("u", "import") == ["a"]
    index[("u", "import")] = [JobState("a", False)]
    assert jobs.active("u", "import") == []
    jobs.created("u", "import", "b")
    now[0] += 61
    assert jobs.active("u", "import") == []
    index[("u", "import")] = [JobState("c", True), JobState("a", False)]
    assert jobs.active("u", "import") == ["c"]
    assert jobs.active("other", "import") == []


def test_a_watch_event_clears_a_recent_creation() -> None:
    jobs = ActiveJobs()
    jobs.index = {}
    jobs.created("u", "import", "a")
    jobs.seen(body("a"))
    assert jobs.active("u", "import") == []
