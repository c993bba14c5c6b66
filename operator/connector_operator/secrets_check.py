"""Readiness of a connection: its spec is valid, its Secrets exist, hold the keys and may be used.

Pure: Secrets are looked up through a function (the operator passes its in-memory index of Secret
key names; values are never read), so every rule is unit-tested without a cluster.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from connector_operator import conditions
from connector_operator.models import OnlineConnectionSpec
from connector_operator.settings import Settings

ALLOW_USE_LABEL = "connectors.datagalaxy.com/allow-use"


@dataclass(frozen=True)
class SecretInfo:
    """What the operator knows about a Secret: its key names and labels, never its values."""

    keys: frozenset[str]
    labels: Mapping[str, str] = field(default_factory=dict)


SecretLookup = Callable[[str], SecretInfo | None]


@dataclass(frozen=True)
class Verdict:
    ready: bool
    reason: str
    message: str
    spec: OnlineConnectionSpec | None = None


def referenced_secrets(spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(role, secret name, key) of each Secret reference in a raw spec, valid or not."""
    refs = []
    source = spec.get("source") or {}
    target = spec.get("target") or {}
    for role, ref in (
        ("source password", source.get("passwordSecretRef")),
        ("DataGalaxy token", target.get("tokenSecretRef")),
    ):
        if isinstance(ref, Mapping) and ref.get("name") and ref.get("key"):
            refs.append((role, str(ref["name"]), str(ref["key"])))
    return refs


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(p) for p in item["loc"])
        parts.append(f"spec.{location}: {item['msg']}" if location else item["msg"])
    return "; ".join(parts)


def api_host_allowed(api_url: str, allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    host = (urlsplit(api_url).hostname or "").lower()
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in allowed)


def evaluate(spec: Mapping[str, Any], lookup: SecretLookup, settings: Settings) -> Verdict:
    try:
        model = OnlineConnectionSpec.model_validate(dict(spec))
    except ValidationError as error:
        return Verdict(False, conditions.INVALID_SPEC, describe_validation_error(error))
    if not api_host_allowed(model.target.api_url, settings.allowed_api_hosts):
        host = urlsplit(model.target.api_url).hostname
        return Verdict(
            False,
            conditions.API_HOST_NOT_ALLOWED,
            f"target.apiUrl host {host!r} is not in the operator's allowed API hosts "
            f"({', '.join(settings.allowed_api_hosts)})",
            model,
        )
    for role, name, key in referenced_secrets(spec):
        info = lookup(name)
        if info is None:
            return Verdict(False, conditions.SECRET_NOT_FOUND, f"Secret {name!r} ({role}) not found", model)
        if key not in info.keys:
            return Verdict(
                False, conditions.SECRET_KEY_MISSING, f"Secret {name!r} ({role}) has no key {key!r}", model
            )
        if settings.require_secret_label and info.labels.get(ALLOW_USE_LABEL) != "true":
            return Verdict(
                False,
                conditions.SECRET_NOT_ALLOWED,
                f"Secret {name!r} ({role}) lacks the label {ALLOW_USE_LABEL}=true",
                model,
            )
    return Verdict(True, conditions.CONFIGURED, "spec is valid and the referenced Secrets are present", model)
