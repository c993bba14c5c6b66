"""The CronJob watch: someone else changed or deleted a connection's CronJob; put it back.

Only CronJobs controlled by a connection are considered (a look-alike CronJob that anyone may create
is ignored: its Jobs are never admitted). The check is in memory, against the CronJob this process
last rendered; a CronJob not rendered yet by this process is checked by the next reconcile.
"""

from __future__ import annotations

import logging
from typing import Any

from connector_operator import naming, owned
from connector_operator.models import KIND
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.secrets_check import SecretLookup

log = logging.getLogger("connector_operator")


def needs_repair(state: OperatorState, cronjob: dict[str, Any], deleted: bool) -> bool:
    found = owned.controller(cronjob)
    if found is None or found[0] != KIND:
        return False
    desired = state.cronjob_desired.get(found[2])
    if desired is None:
        return False  # not ours to compare yet (or removed on purpose)
    annotations = (cronjob.get("metadata") or {}).get("annotations") or {}
    wanted = desired["metadata"]["annotations"][naming.SPEC_HASH_ANNOTATION]
    changed = (
        deleted
        or annotations.get(naming.SPEC_HASH_ANNOTATION) != wanted
        or bool(owned.differences(desired["spec"], cronjob.get("spec") or {}, "spec"))
    )
    # At most one repair per connection and minute: never a write loop, whatever the server normalises.
    return changed and state.repair_allowed(found[2])


def repair(state: OperatorState, cronjob: dict[str, Any], lookup: SecretLookup) -> None:
    found = owned.controller(cronjob)
    if found is None:
        return
    _, name, uid = found
    namespace = str(cronjob["metadata"].get("namespace", ""))
    log.warning(
        "CronJob %s/%s was changed or deleted by someone else: repairing",
        namespace,
        cronjob["metadata"].get("name"),
    )
    state.cronjob_verified.pop(uid, None)  # read it again instead of trusting the cache
    body = state.kube.get_connection(namespace, name)
    if body is not None and body["metadata"].get("uid") == uid:
        reconcile(state, body, lookup, fresh=False)
