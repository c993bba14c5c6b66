"""Per-reference reads of Secrets: the operator GETs only the Secrets a connection names, when it needs them.

There is no Secret watch and no Secret cache (issue 10, "RBAC on metadata only"): a watch would hand
the operator every Secret's values in the cluster and need `list`/`watch`. Instead each evaluation
GETs the referenced Secrets (RBAC: `get` only), reduces each body at once to a `SecretInfo` (key
names, empty keys, labels) and drops it; only the readiness verdict built from it is kept.
A 404 reads as "not found" (`SecretNotFound`), a 403 as "not readable" (`SecretNotAllowed`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubernetes.client.exceptions import ApiException

from connector_operator.secrets_check import SecretInfo, SecretLookup, secret_info

if TYPE_CHECKING:
    from connector_operator.kube import Kube

FORBIDDEN = SecretInfo(keys=frozenset(), readable=False)


def read(kube: Kube, namespace: str, name: str) -> SecretInfo | None:
    """What the rules need of one Secret; its body (values included) goes out of scope here."""
    try:
        body = kube.get_secret(namespace, name)
    except ApiException as error:
        if error.status == 403:
            return FORBIDDEN
        raise
    return None if body is None else secret_info(body)


def lookup(kube: Kube, namespace: str | None) -> SecretLookup:
    """A `SecretLookup` for one namespace that GETs each Secret when the rules ask for it."""

    def find(name: str) -> SecretInfo | None:
        return read(kube, namespace or "", name)

    return find
