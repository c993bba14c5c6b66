"""The Job and CronJob builders: pure functions from a spec to manifests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_extractors.errors import EXIT_CODES, NON_RETRYABLE, ErrorCategory
from connector_extractors.run_config import RunConfig
from connector_operator import naming
from connector_operator.cronjob_builder import build_cronjob
from connector_operator.job_builder import Connection, build_job, non_retryable_exit_codes
from connector_operator.models import OnlineConnectionSpec
from connector_operator.settings import Settings

CONNECTION = Connection(name="sales-db", namespace="team-a", uid="0b5e-uid")
SETTINGS = Settings(extractor_image="example.org/extractor:9", extractor_service_account="olc-extractor")


def spec(**overrides: Any) -> OnlineConnectionSpec:
    raw: dict[str, Any] = {
        "source": {
            "technology": "postgresql",
            "host": "db.example.com",
            "port": 5432,
            "database": "sales",
            "username": "reader",
            "passwordSecretRef": {"name": "db", "key": "password"},
            "options": {"keepalives_idle": "60"},
        },
        "target": {
            "apiUrl": "https://api.datagalaxy.com/v2",
            "tokenSecretRef": {"name": "dg", "key": "token"},
            "workspace": "Sales",
            "sourceName": "Sales DB",
        },
        "run": {"timeoutSeconds": 900, "backoffLimit": 3, "resources": {"limits": {"memory": "512Mi"}}},
    }
    raw.update(overrides)
    return OnlineConnectionSpec.model_validate(raw)


def container(job: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return result


def test_import_job_shape() -> None:
    job = build_job(CONNECTION, spec(), SETTINGS, mode="import", request="r1")
    meta = job["metadata"]
    assert meta["name"] == naming.run_job_name("sales-db", "0b5e-uid", "r1")
    assert meta["namespace"] == "team-a"
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "connectors.datagalaxy.com/v1alpha1",
            "kind": "OnlineConnection",
            "name": "sales-db",
            "uid": "0b5e-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["labels"][naming.CONNECTION_UID_LABEL] == "0b5e-uid"
    assert meta["labels"][naming.MODE_LABEL] == "import"
    assert meta["annotations"][naming.REQUEST_ANNOTATION] == "r1"
    job_spec = job["spec"]
    assert job_spec["activeDeadlineSeconds"] == 900
    assert job_spec["backoffLimit"] == 3
    assert job_spec["ttlSecondsAfterFinished"] == 86400
    assert (job_spec["completions"], job_spec["parallelism"]) == (1, 1)
    main = container(job)
    assert main["image"] == "example.org/extractor:9"
    assert main["command"] == ["online-connector-extract"]
    assert main["args"] == []
    # The operator's defaults fill in only the resources the spec leaves out (here cpu).
    assert main["resources"] == {"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi"}}
    assert main["terminationMessagePath"] == "/dev/termination-log"


def test_pod_meets_the_restricted_standard() -> None:
    pod = build_job(CONNECTION, spec(), SETTINGS, mode="import", request="r1")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "olc-extractor"
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = pod["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsUser"] == 65532
    assert {v["name"]: list(v)[1] for v in pod["volumes"]} == {"tmp": "emptyDir"}
    assert pod["containers"][0]["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_secrets_only_by_reference_and_config_is_a_run_config() -> None:
    job = build_job(CONNECTION, spec(), SETTINGS, mode="import", request="r1", previous_content_hash="abc")
    env = {e["name"]: e for e in container(job)["env"]}
    assert env["OLC_SOURCE_PASSWORD"] == {
        "name": "OLC_SOURCE_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
    }
    assert env["OLC_DATAGALAXY_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "dg", "key": "token"}}
    config = RunConfig.model_validate_json(env["OLC_RUN_CONFIG"]["value"])
    assert config.mode == "import"
    assert config.connection == "team-a/sales-db"
    assert config.source.host == "db.example.com"
    assert config.source.options == {"keepalives_idle": "60"}
    assert config.target is not None
    assert config.target.source_name == "Sales DB"
    assert config.previous_content_hash == "abc"
    assert "password" not in json.dumps(config.model_dump(by_alias=True)).replace("passwordSecretRef", "")


def test_check_job_runs_the_extractor_check_mode_without_retries() -> None:
    job = build_job(CONNECTION, spec(), SETTINGS, mode="check", request="t1")
    assert job["metadata"]["name"] == naming.test_job_name("sales-db", "0b5e-uid", "t1")
    assert container(job)["args"] == ["--check"]
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 600
    config = RunConfig.model_validate_json(container(job)["env"][0]["value"])
    assert config.mode == "check"
    assert config.previous_content_hash is None


def test_pod_failure_policy_fails_fast_on_non_retryable_errors() -> None:
    rules = build_job(CONNECTION, spec(), SETTINGS, mode="import", request="r")["spec"]["podFailurePolicy"][
        "rules"
    ]
    assert rules[0] == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    fail = rules[1]
    assert fail["action"] == "FailJob"
    assert fail["onExitCodes"]["operator"] == "In"
    assert fail["onExitCodes"]["values"] == non_retryable_exit_codes()
    assert EXIT_CODES[ErrorCategory.AUTHENTICATION_FAILED] in fail["onExitCodes"]["values"]
    assert EXIT_CODES[ErrorCategory.SOURCE_UNREACHABLE] not in fail["onExitCodes"]["values"]
    assert 137 in fail["onExitCodes"]["values"], "an OOM kill is not retried"
    assert len(fail["onExitCodes"]["values"]) == len(NON_RETRYABLE) + 1


def test_job_names_are_deterministic_and_short() -> None:
    long_name = "a" * 200
    first = naming.run_job_name(long_name, "uid", "req")
    assert first == naming.run_job_name(long_name, "uid", "req")
    assert first != naming.run_job_name(long_name, "uid", "req2")
    assert len(first) <= 63
    assert len(naming.cronjob_name(long_name)) <= 52
    assert len(naming.labels(long_name, "uid", "import", "manual")[naming.CONNECTION_LABEL]) <= 63
    assert naming.shorten("a" * 50, 40) != naming.shorten("a" * 51, 40)


def test_no_service_account_setting_means_no_service_account_name() -> None:
    job = build_job(CONNECTION, spec(), Settings(), mode="import", request="r")
    assert "serviceAccountName" not in job["spec"]["template"]["spec"]
    assert container(job)["image"].startswith("ghcr.io/datagalaxy/online-connector-extractor:")


def test_cronjob_shape() -> None:
    scheduled = spec(schedule={"cron": "0 2 * * *", "timeZone": "Europe/Paris"})
    cronjob = build_cronjob(CONNECTION, scheduled, SETTINGS, ready=True, previous_content_hash="h1")
    assert cronjob["metadata"]["name"] == "sales-db-sched"
    assert cronjob["metadata"]["ownerReferences"][0]["uid"] == "0b5e-uid"
    cron_spec = cronjob["spec"]
    assert cron_spec["schedule"] == "0 2 * * *"
    assert cron_spec["timeZone"] == "Europe/Paris"
    assert cron_spec["suspend"] is False
    assert cron_spec["concurrencyPolicy"] == "Forbid"
    template = cron_spec["jobTemplate"]
    assert template["spec"]["suspend"] is True, "scheduled Jobs wait for the operator's admission"
    assert template["metadata"]["labels"][naming.TRIGGER_LABEL] == "schedule"
    config = RunConfig.model_validate_json(
        template["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
    )
    assert config.previous_content_hash == "h1"


@pytest.mark.parametrize(
    ("suspend", "ready", "expected"), [(False, True, False), (True, True, True), (False, False, True)]
)
def test_cronjob_suspended_when_asked_or_not_ready(suspend: bool, ready: bool, expected: bool) -> None:
    scheduled = spec(schedule={"cron": "@daily", "suspend": suspend})
    assert build_cronjob(CONNECTION, scheduled, SETTINGS, ready=ready)["spec"]["suspend"] is expected


def test_cronjob_hash_changes_with_the_spec() -> None:
    a = build_cronjob(CONNECTION, spec(schedule={"cron": "@daily"}), SETTINGS, ready=True)
    b = build_cronjob(CONNECTION, spec(schedule={"cron": "@hourly"}), SETTINGS, ready=True)
    key = naming.SPEC_HASH_ANNOTATION
    assert a["metadata"]["annotations"][key] != b["metadata"]["annotations"][key]
    again = build_cronjob(CONNECTION, spec(schedule={"cron": "@daily"}), SETTINGS, ready=True)
    assert a == again


def test_default_resources_apply_when_the_spec_names_none() -> None:
    job = build_job(CONNECTION, spec(run={}), SETTINGS, mode="import", request="r1")
    assert container(job)["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "1Gi"},
    }
