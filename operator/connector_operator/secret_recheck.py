"""Re-checks of connections' Secrets, since Secrets are not watched (see `secret_reads`).

A kopf index (`index_entry`) keeps, for each connection that references a Secret, whether it is
Ready=False for a Secret reason ("failing") or Ready ("ready"); nothing of the Secrets themselves.
One loop per operator process (not a kopf timer: timers add a finalizer to every connection) wakes
every `secret_recheck_seconds` and reconciles the failing connections, so a Secret created or fixed
later makes its connection Ready without any edit; every `secret_reverify_seconds` it reconciles the
Ready ones too, so a Secret deleted or emptied later turns them Ready=False. A run request (and a
scheduled Job's admission) always evaluates the Secrets afresh before a Job is created.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import conditions
from connector_operator.conditions import Reason
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.secrets_check import referenced_secrets

log = logging.getLogger("connector_operator")

FAILING = "failing"
READY = "ready"
SECRET_REASONS = frozenset(
    {
        Reason.SECRET_NOT_FOUND,
        Reason.SECRET_KEY_MISSING,
        Reason.SECRET_VALUE_EMPTY,
        Reason.SECRET_NOT_ALLOWED,
        Reason.SECRET_ROLE_MISMATCH,
    }
)
Key = tuple[str, str]  # namespace, name


def state_of(body: Mapping[str, Any]) -> str | None:
    """FAILING, READY, or None (no Secret referenced, or not ready for another reason)."""
    if not referenced_secrets(dict(body.get("spec") or {})):
        return None
    for item in (body.get("status") or {}).get("conditions") or []:
        if isinstance(item, Mapping) and item.get("type") == conditions.ConditionType.READY:
            if item.get("status") == "True":
                return READY
            return FAILING if item.get("reason") in SECRET_REASONS else None
    return None


def index_entry(body: Mapping[str, Any]) -> dict[Key, str]:
    metadata = body.get("metadata") or {}
    found = state_of(body)
    return {} if found is None else {(metadata.get("namespace") or "", metadata.get("name") or ""): found}


def due(index: Mapping[Any, Iterable[Any]] | None, *, everything: bool) -> list[Key]:
    """The connections to re-check: the failing ones, and the Ready ones too when `everything`."""
    wanted = {FAILING, READY} if everything else {FAILING}
    return sorted(key for key, values in (index or {}).items() if wanted & set(values))


def recheck(state: OperatorState, keys: Iterable[Key]) -> None:
    """Reconcile each connection (its Secrets read afresh); one failure does not stop the others."""
    for namespace, name in keys:
        try:
            body = state.kube.get_connection(namespace, name)
            if body is not None:
                reconcile(state, body, state.secrets(namespace), fresh=False)
        except ApiException as error:
            log.warning("re-checking the Secrets of %s/%s: API error %s", namespace, name, error.status)


async def run(state: OperatorState, index: Mapping[Any, Iterable[Any]] | None) -> None:
    """Forever: re-check the failing connections each period, all of them each longer period."""
    last_full = state.clock()
    while True:
        await asyncio.sleep(state.settings.secret_recheck_seconds)
        everything = state.clock() - last_full >= state.settings.secret_reverify_seconds
        if everything:
            last_full = state.clock()
        if keys := due(index, everything=everything):
            await asyncio.to_thread(recheck, state, keys)
