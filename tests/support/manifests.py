"""Manifests of the objects tests apply: OnlineConnections and the Secrets they reference.

One factory per kind, so that a change to the CRD (a renamed field, a new required one) is made once for
every tier. The factories return dicts; `manifest()` turns one or more into the text `kubectl apply -f -`
reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

GROUP = "connectors.datagalaxy.com"
API_VERSION = f"{GROUP}/v1alpha1"
ALLOW_USE = f"{GROUP}/allow-use"
PASSWORD_SECRET = "shop-db"
TOKEN_SECRET = "dg-token"

Doc = dict[str, Any]


@dataclass(frozen=True)
class ShopDatabase:
    """Where the sample 'shop' schema lives, and the read-only user that may read it."""

    host: str
    port: int
    database: str
    user: str
    password: str


def manifest(*docs: Doc) -> str:
    """A multi-document stream for `kubectl apply -f -` (JSON is YAML)."""
    return "\n---\n".join(json.dumps(doc) for doc in docs)


def connection(
    name: str, db: ShopDatabase, api_url: str, *, labels: dict[str, str] | None = None, **spec: Any
) -> Doc:
    """An OnlineConnection reading `db` into the workspace "Demo" at `api_url`.

    Keyword arguments override parts of the spec: a mapping is merged into the default section of the same
    name (`source={"port": 1}`), anything else replaces it (`schedule={...}`).
    """
    body: Doc = {
        "source": {
            "technology": "postgresql",
            "host": db.host,
            "port": db.port,
            "database": db.database,
            "username": db.user,
            "passwordSecretRef": {"name": PASSWORD_SECRET, "key": "password"},
        },
        "target": {
            "apiUrl": api_url,
            "tokenSecretRef": {"name": TOKEN_SECRET, "key": "token"},
            "workspace": "Demo",
            "sourceName": f"Shop {name}",
        },
        "run": {"timeoutSeconds": 120, "backoffLimit": 2, "historyLimit": 5},
    }
    for key, value in spec.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    metadata: Doc = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": "OnlineConnection", "metadata": metadata, "spec": body}


def connection_spec(**sections: Any) -> Doc:
    """The spec of a connection that nothing reaches (unit tests: `db.example.com`, DataGalaxy's public URL).

    A mapping merges into the default section of the same name (`target={"workspace": "X"}`), anything
    else replaces or adds a section (`schedule={...}`).
    """
    body: Doc = {
        "source": {
            "technology": "postgresql",
            "host": "db.example.com",
            "database": "sales",
            "username": "reader",
            "passwordSecretRef": {"name": "db", "key": "password"},
        },
        "target": {
            "apiUrl": "https://api.datagalaxy.com/v2",
            "tokenSecretRef": {"name": "dg", "key": "token"},
            "workspace": "Sales",
            "sourceName": "Sales DB",
        },
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def connection_manifest(name: str, db: ShopDatabase, api_url: str, **spec: Any) -> str:
    """`connection(...)` as text for `kubectl apply -f -`."""
    return manifest(connection(name, db, api_url, **spec))


def secret(name: str, data: dict[str, str], *, labels: dict[str, str] | None = None) -> Doc:
    """A Secret with `stringData`."""
    metadata: Doc = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "stringData": dict(data)}


def connection_secrets(password: str, token: str, *, labelled: bool = False, prefix: str = "") -> list[Doc]:
    """The two Secrets a `connection()` references: the source password and the DataGalaxy token.

    `labelled` adds the role labels that `security.requireSecretLabel` asks for; `prefix` renames both.
    """
    as_password = {ALLOW_USE: "source-password"} if labelled else None
    as_token = {ALLOW_USE: "datagalaxy-token"} if labelled else None
    return [
        secret(f"{prefix}{PASSWORD_SECRET}", {"password": password}, labels=as_password),
        secret(f"{prefix}{TOKEN_SECRET}", {"token": token}, labels=as_token),
    ]


def secrets_manifest(password: str, token: str, *, labelled: bool = False, prefix: str = "") -> str:
    """`connection_secrets(...)` as text for `kubectl apply -f -`."""
    return manifest(*connection_secrets(password, token, labelled=labelled, prefix=prefix))
