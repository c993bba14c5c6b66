"""One DataGalaxy target source belongs to one connection.

Two connections that push to the same source (same API URL, workspace, version and source name) would
delete each other's objects with `missingObjects: delete`, and each would believe its own last push is
still there. So the first connection created owns the target, and every later one is `Ready=False`
(`TargetInUse`) with a message naming the owner, until the owner is deleted or points elsewhere.

"First" is deterministic and the same in every operator process: the oldest `creationTimestamp`, then
namespace, then name. Claims come from a kopf index over all watched connections, so deciding costs no
API call. The identity is normalised (scheme and host in lower case, no trailing slash) so that two
spellings of one URL are one target; a workspace named in one spec and given by id in the other cannot
be matched here, and is caught by the ownership marker on the DataGalaxy source (extractor side).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True, order=True)
class Claim:
    """A connection that names a target; ordering is ownership order (oldest first)."""

    created: str  # creationTimestamp, RFC 3339 in UTC ("...Z"): sorts as text
    namespace: str
    name: str
    uid: str

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


def normalised_url(url: str) -> str:
    """`url` with scheme and host in lower case and no trailing slash (one spelling per target)."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def ownership_key(spec: Mapping[str, Any]) -> str | None:
    """The identity of the target a raw spec names, or None when the spec names no complete target.

    Read from the raw spec (not the validated model) so that the index can hold any connection.
    """
    target = spec.get("target")
    if not isinstance(target, Mapping):
        return None
    api_url, workspace, source = target.get("apiUrl"), target.get("workspace"), target.get("sourceName")
    version = target.get("version")
    if not all(isinstance(v, str) and v for v in (api_url, workspace, source)):
        return None
    assert isinstance(api_url, str)
    return json.dumps(
        [normalised_url(api_url), workspace, version if isinstance(version, str) else None, source]
    )


def claim_of(body: Mapping[str, Any]) -> Claim:
    metadata = body.get("metadata") or {}
    return Claim(
        created=str(metadata.get("creationTimestamp") or ""),
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
    )


def index_entry(body: Mapping[str, Any]) -> dict[str, Claim]:
    """The kopf index entry of one connection: {target identity: its claim}, empty without a target."""
    key = ownership_key(body.get("spec") or {})
    return {} if key is None else {key: claim_of(body)}


def owner(claims: Iterable[Claim]) -> Claim | None:
    """The claim that owns the target: the oldest, then by namespace and name."""
    return min(claims, default=None)


def describe_target(spec: Mapping[str, Any]) -> str:
    target = spec.get("target") or {}
    where = f"workspace {target.get('workspace')!r}"
    if target.get("version"):
        where += f" version {target.get('version')!r}"
    return f"DataGalaxy source {target.get('sourceName')!r} in {where} at {target.get('apiUrl')}"


def conflict(body: Mapping[str, Any], claims: Iterable[Claim]) -> str | None:
    """None when the connection in `body` owns its target (or shares it with nobody); otherwise the
    message of its `TargetInUse` condition, naming the owner."""
    me = claim_of(body)
    others = [c for c in claims if c.uid != me.uid]
    first = owner([*others, me])
    if first is None or first.uid == me.uid:
        return None
    spec = body.get("spec") or {}
    return (
        f"spec.target: {describe_target(spec)} is already the target of connection {first.label} "
        f"(created {first.created}, first created wins); one target source belongs to one connection. "
        "Choose another target.sourceName, or delete one of the two connections."
    )


def others_to_revisit(key: str | None, claims: Iterable[Claim], gone_uid: str) -> list[Claim]:
    """When `gone_uid` stops naming `key` (deleted or retargeted): the remaining claimants, oldest first,
    whose Ready condition may change (the next owner becomes Ready)."""
    if key is None:
        return []
    return sorted(c for c in claims if c.uid != gone_uid)


class TargetClaims:
    """The claims of every watched connection (kopf's index, attached by the handlers), plus what this
    process saw: which target each connection named last, and which connections are gone."""

    def __init__(self) -> None:
        self._index: Mapping[Any, Any] | None = None
        self._last_key: dict[str, str | None] = {}
        self._gone: set[str] = set()
        self._left: list[Claim] = []
        self._guard = threading.Lock()

    def attach(self, index: Mapping[Any, Any] | None) -> None:
        if index is not None:
            self._index = index

    def claims(self, key: str | None) -> list[Claim]:
        if key is None or self._index is None:
            return []
        found = self._index.get(key) or []
        with self._guard:
            return [c for c in found if isinstance(c, Claim) and c.uid not in self._gone]

    def check(self, body: Mapping[str, Any]) -> str | None:
        """The `TargetInUse` message for the connection in `body`, or None when it may write its target.

        When the connection names another target than last time, the other claimants of the target it
        left are queued for `take_left`: the handler reconciles them once this connection's lock is
        released (the next one may now own that target).
        """
        key = ownership_key(body.get("spec") or {})
        me = claim_of(body)
        with self._guard:
            previous = self._last_key.get(me.uid, key)
            self._last_key[me.uid] = key
        if previous != key:
            left = others_to_revisit(previous, self.claims(previous), me.uid)
            with self._guard:
                self._left.extend(left)
        return conflict(body, self.claims(key))

    def take_left(self) -> list[Claim]:
        """The connections queued by `check` for a reconcile (each once)."""
        with self._guard:
            left, self._left = self._left, []
        return left

    def departed(self, body: Mapping[str, Any]) -> list[Claim]:
        """A connection was deleted: the claimants of its target, to reconcile (one may now own it)."""
        me = claim_of(body)
        with self._guard:
            self._gone.add(me.uid)
            key = self._last_key.pop(me.uid, None) or ownership_key(body.get("spec") or {})
        return others_to_revisit(key, self.claims(key), me.uid)
