"""kopf's settings for this operator: where it keeps its bookkeeping, how much it does at once.

Progress and diff-base live in annotations under the operator's own prefix (never a finalizer: no
handler needs one; the request annotations are left out of the diff-base), Events kopf posts itself
are limited to warnings, and the watch and worker limits are sized for thousands of connections.
"""

from __future__ import annotations

import logging

import kopf

from connector_operator import naming


def tune(settings: kopf.OperatorSettings) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=naming.KOPF_PREFIX)
    # The request annotations stay out of kopf's copy of the object: a value near the 256 KiB limit
    # would otherwise be stored twice and make every kopf patch fail. Requests are noticed by the
    # connection event handler instead (`run_requests.pending`).
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=naming.KOPF_PREFIX,
        key="last-handled-configuration",
        ignored_fields=[("metadata", "annotations", key) for key in naming.REQUEST_ANNOTATIONS],
    )
    settings.persistence.finalizer = f"{naming.KOPF_PREFIX}/finalizer"
    settings.posting.reporting_component = naming.MANAGER
    settings.posting.level = logging.WARNING
    settings.execution.max_workers = 32
    settings.queueing.worker_limit = 256
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.chunk_size = 500
    settings.networking.request_timeout = 60
    # Our handlers are level-based and idempotent: a short wait for kopf's own patch is enough.
    settings.persistence.consistency_timeout = 1.0
