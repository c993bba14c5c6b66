"""Readiness of a connection: its spec is valid, its Secrets exist, hold non-empty keys and may be used.

Pure: Secrets are looked up through a function (the operator passes what one GET of each referenced
Secret told it, see `secret_reads`: key names, which keys are empty, labels; never a value), so every
rule is unit-tested without a cluster.

Secrets have roles. The label `connectors.datagalaxy.com/allow-use` names what a Secret may be used as:
`source-password` or `datagalaxy-token`. A Secret labelled for one role is never accepted for the other
(whatever `requireSecretLabel` says), the same Secret never serves both references of a connection,
and with `requireSecretLabel` only Secrets labelled for the role are used. Beside the API host
allowlist, an optional source host allowlist (CIDRs and host name globs) says where a password may go.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from connector_operator import conditions
from connector_operator.models import OnlineConnectionSpec
from connector_operator.settings import Settings

ALLOW_USE_LABEL = "connectors.datagalaxy.com/allow-use"
ROLE_SOURCE_PASSWORD = "source-password"  # noqa: S105 - a role name
ROLE_DATAGALAXY_TOKEN = "datagalaxy-token"  # noqa: S105 - a role name
ROLE_SOURCE_CA = "source-ca"
ROLES = (ROLE_SOURCE_PASSWORD, ROLE_DATAGALAXY_TOKEN)
_ROLE_NAMES = {
    ROLE_SOURCE_PASSWORD: "source password",
    ROLE_DATAGALAXY_TOKEN: "DataGalaxy token",
    ROLE_SOURCE_CA: "source CA",
}
_FIELDS = {
    ROLE_SOURCE_PASSWORD: "spec.source.passwordSecretRef",
    ROLE_DATAGALAXY_TOKEN: "spec.target.tokenSecretRef",
    ROLE_SOURCE_CA: "spec.source.tls.caSecretRef",
}

SECRET_VALUE_EMPTY = conditions.Reason.SECRET_VALUE_EMPTY
SECRET_ROLE_MISMATCH = conditions.Reason.SECRET_ROLE_MISMATCH
SOURCE_HOST_NOT_ALLOWED = conditions.Reason.SOURCE_HOST_NOT_ALLOWED


@dataclass(frozen=True)
class SecretInfo:
    """What the operator knows about a Secret: its key names, which are empty, and labels; no value.

    `readable=False`: the API server refused the operator's GET (403), so nothing else is known.
    """

    keys: frozenset[str]
    labels: Mapping[str, str] = field(default_factory=dict)
    empty_keys: frozenset[str] = frozenset()
    readable: bool = True


def secret_info(body: Mapping[str, Any]) -> SecretInfo:
    """The `SecretInfo` of a Secret object; its values are only measured, never kept."""
    data = dict(body.get("data") or {})
    string_data = dict(body.get("stringData") or {})
    empty = set()
    for key, value in data.items():
        try:
            raw = base64.b64decode(value or "", validate=True)
        except (binascii.Error, ValueError):
            raw = b"?"
        if not raw.strip(b"\r\n"):
            empty.add(key)
    empty.update(key for key, value in string_data.items() if not str(value).strip("\r\n"))
    labels = (body.get("metadata") or {}).get("labels") or {}
    return SecretInfo(
        keys=frozenset(data) | frozenset(string_data), labels=dict(labels), empty_keys=frozenset(empty)
    )


SecretLookup = Callable[[str], SecretInfo | None]


@dataclass(frozen=True)
class Verdict:
    ready: bool
    reason: str
    message: str
    spec: OnlineConnectionSpec | None = None


def referenced_secrets(spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(role description, secret name, key) of each Secret reference in a raw spec, valid or not."""
    return [(_ROLE_NAMES[role], name, key) for role, name, key in _references(spec)]


def _references(spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    refs = []
    source = spec.get("source") or {}
    target = spec.get("target") or {}
    tls = source.get("tls") if isinstance(source.get("tls"), Mapping) else {}
    for role, ref in (
        (ROLE_SOURCE_PASSWORD, source.get("passwordSecretRef")),
        (ROLE_DATAGALAXY_TOKEN, target.get("tokenSecretRef")),
        (ROLE_SOURCE_CA, (tls or {}).get("caSecretRef")),
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


def source_host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """`host` matches one of `allowed`: CIDRs (for IP addresses) or host name globs; empty allows all."""
    if not allowed:
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in allowed:
        if "/" in entry:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if address is not None and address in network:
                return True
        elif fnmatch.fnmatchcase(host.lower(), entry.lower()):
            return True
    return False


def _secret_verdict(
    spec: Mapping[str, Any], model: OnlineConnectionSpec, lookup: SecretLookup, settings: Settings
) -> Verdict | None:
    refs = _references(spec)
    names = {role: name for role, name, _ in refs}
    if names.get(ROLE_SOURCE_PASSWORD) and names.get(ROLE_SOURCE_PASSWORD) == names.get(
        ROLE_DATAGALAXY_TOKEN
    ):
        return Verdict(
            False,
            SECRET_ROLE_MISMATCH,
            f"spec.source.passwordSecretRef and spec.target.tokenSecretRef name the same Secret "
            f"{names[ROLE_SOURCE_PASSWORD]!r}: a Secret serves one role only",
            model,
        )
    for role, name, key in refs:
        what = f"Secret {name!r} ({_FIELDS[role]})"
        info = lookup(name)
        if info is None:
            return Verdict(False, conditions.SECRET_NOT_FOUND, f"{what} not found", model)
        if not info.readable:
            return Verdict(
                False,
                conditions.SECRET_NOT_ALLOWED,
                f"{what} may not be read by the operator (forbidden): grant it `get` on Secrets here",
                model,
            )
        if key not in info.keys:
            return Verdict(False, conditions.SECRET_KEY_MISSING, f"{what} has no key {key!r}", model)
        if key in info.empty_keys:
            return Verdict(False, SECRET_VALUE_EMPTY, f"{what}: key {key!r} is empty", model)
        if role == ROLE_SOURCE_CA:
            continue  # a CA certificate is no secret: no role label needed
        label = info.labels.get(ALLOW_USE_LABEL)
        if label in ROLES and label != role:
            return Verdict(
                False,
                SECRET_ROLE_MISMATCH,
                f"{what} is labelled {ALLOW_USE_LABEL}={label}: "
                f"it may not be used as the {_ROLE_NAMES[role]}",
                model,
            )
        if settings.require_secret_label and label != role:
            return Verdict(
                False,
                conditions.SECRET_NOT_ALLOWED,
                f"{what} lacks the label {ALLOW_USE_LABEL}={role}",
                model,
            )
    return None


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
    host = model.source.host
    if host is not None and not source_host_allowed(host, settings.allowed_source_hosts):
        return Verdict(
            False,
            SOURCE_HOST_NOT_ALLOWED,
            f"spec.source.host {host!r} is not in the operator's allowed source hosts "
            f"({', '.join(settings.allowed_source_hosts)})",
            model,
        )
    refused = _secret_verdict(spec, model, lookup, settings)
    if refused is not None:
        return refused
    return Verdict(True, conditions.CONFIGURED, "spec is valid and the referenced Secrets are present", model)
