"""The operator state: built once, passed through kopf's memo, settings honoured, deletes forgotten."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from connector_operator import __main__ as entry
from connector_operator import kopf_tuning, naming, operator_state, run_requests
from connector_operator.operator_state import OperatorState
from connector_operator.settings import Settings


def test_run_operator_hands_its_settings_to_the_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(kopf, "run", lambda **kwargs: seen.update(kwargs))
    settings = Settings(extractor_image="example.org/extractor:1", metrics_port=-1, standalone=True)
    entry.run_operator(settings)
    state = operator_state.from_memo(seen["memo"])
    assert state.settings is settings
    assert seen["standalone"] is True


def test_a_memo_without_state_gets_one_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLC_EXTRACTOR_IMAGE", "example.org/from-env:2")
    memo = kopf.Memo()
    state = operator_state.from_memo(memo)
    assert state.settings.extractor_image == "example.org/from-env:2"
    assert operator_state.from_memo(memo) is state


def test_forget_drops_locks_notices_and_caches() -> None:
    state = OperatorState(settings=Settings())
    with state.connection_lock("u"):
        pass
    assert state.first_queued_notice("u", "r1")
    assert not state.first_queued_notice("u", "r1")
    state.without_cronjob.add("u")
    state.cronjob_ensured("u", "hash", {}, "cj-uid")
    assert state.cronjob_fresh("u", "hash")
    assert state.connection_count() == 1
    state.forget("u")
    assert state.connection_count() == 0
    assert state.first_queued_notice("u", "r1")
    assert "u" not in state.without_cronjob
    assert not state.cronjob_fresh("u", "hash")


def test_cronjob_cache_expires() -> None:
    now = [100.0]
    state = OperatorState(settings=Settings(), clock=lambda: now[0])
    state.cronjob_ensured("u", "hash", {}, "cj-uid")
    assert state.cronjob_fresh("u", "hash")
    assert not state.cronjob_fresh("u", "other")
    now[0] += operator_state.CRONJOB_RECHECK_SECONDS + 1
    assert not state.cronjob_fresh("u", "hash")


def test_request_annotations_stay_out_of_kopfs_diff_base() -> None:
    settings = kopf.OperatorSettings()
    kopf_tuning.tune(settings)
    body = kopf.Body(
        {
            "metadata": {
                "name": "shop",
                "annotations": {naming.RUN_REQUESTED: "x" * 200_000, "team": "sales"},
            },
            "spec": {"a": 1},
        }
    )
    essence = settings.persistence.diffbase_storage.build(body=body)
    assert naming.RUN_REQUESTED not in essence["metadata"]["annotations"]
    assert essence["metadata"]["annotations"]["team"] == "sales"


def test_a_new_request_value_is_pending_until_handled() -> None:
    body: dict[str, Any] = {"metadata": {"annotations": {naming.RUN_REQUESTED: "r1"}}, "status": {}}
    assert run_requests.pending(body)
    body["status"] = {"handledRequests": {"run": "r1"}}
    assert not run_requests.pending(body)
    body["metadata"]["annotations"][naming.TEST_REQUESTED] = "t" * 300
    assert run_requests.pending(body)
    body["status"]["handledRequests"]["test"] = run_requests.handled_value("t" * 300)
    assert not run_requests.pending(body)
