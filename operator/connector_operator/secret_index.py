"""The operator's in-memory index of Secrets: key names, empty keys and labels only, never values.

kopf keeps the index (fed by the Secret watch); readiness rules look Secrets up through the
`SecretLookup` built here, so they never call the API server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector_operator.secrets_check import SecretInfo, SecretLookup, secret_info


def entry(
    namespace: str | None, name: str, body: Mapping[str, Any], labels: Mapping[str, str]
) -> dict[tuple[str | None, str], SecretInfo]:
    info = secret_info(body)  # values are measured (empty or not) and dropped here
    return {(namespace, name): SecretInfo(keys=info.keys, labels=dict(labels), empty_keys=info.empty_keys)}


def lookup(index: Mapping[Any, Any] | None, namespace: str | None) -> SecretLookup:
    def find(name: str) -> SecretInfo | None:
        if index is None:
            return None
        store = index.get((namespace, name))
        if not store:
            return None
        for info in store:
            if isinstance(info, SecretInfo):
                return info
        return None

    return find
