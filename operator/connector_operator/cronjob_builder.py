"""The CronJob behind `spec.schedule`, built as data by a pure function.

Its Jobs are created *suspended*: the operator admits each one only when no other run of the
connection is active (one run at a time, also against on-demand runs), or deletes it as skipped.
`concurrencyPolicy: Forbid` means a Job waiting for admission blocks later schedules, so runs
missed while the operator is down collapse into one catch-up run when it returns. Runs the
CronJob controller itself missed start late if within `startingDeadlineSeconds`, else are skipped.
"""

from __future__ import annotations

import json
from typing import Any

from connector_operator import naming
from connector_operator.job_builder import Connection, job_metadata, job_spec, owner_reference
from connector_operator.models import OnlineConnectionSpec
from connector_operator.settings import Settings

STARTING_DEADLINE_SECONDS = 600


def build_cronjob(
    connection: Connection,
    spec: OnlineConnectionSpec,
    settings: Settings,
    *,
    ready: bool,
    previous_content_hash: str | None = None,
) -> dict[str, Any]:
    schedule = spec.schedule
    if schedule is None:
        raise ValueError("the connection has no schedule")
    cron_spec: dict[str, Any] = {
        "schedule": schedule.cron,
        "suspend": schedule.suspend or not ready,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
        "successfulJobsHistoryLimit": spec.run.history_limit,
        "failedJobsHistoryLimit": spec.run.history_limit,
        "jobTemplate": {
            "metadata": job_metadata(connection, spec, mode="import", trigger="schedule", request=None),
            "spec": job_spec(
                connection,
                spec,
                settings,
                mode="import",
                trigger="schedule",
                previous_content_hash=previous_content_hash,
                suspend=True,
            ),
        },
    }
    if schedule.time_zone:
        cron_spec["timeZone"] = schedule.time_zone
    metadata: dict[str, Any] = {
        "name": naming.cronjob_name(connection.name),
        "namespace": connection.namespace,
        "labels": naming.labels(connection.name, connection.uid, "import", "schedule"),
        "annotations": {naming.CONNECTION_NAME_ANNOTATION: connection.name},
        "ownerReferences": [owner_reference(connection)],
    }
    metadata["annotations"][naming.SPEC_HASH_ANNOTATION] = naming.short_hash(
        json.dumps(cron_spec, sort_keys=True), length=16
    )
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata, "spec": cron_spec}
