"""Operator settings, read once from the environment (the Helm chart sets them)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# The chart's `image.extractor.repository` with its appVersion (a unit test keeps the two equal).
DEFAULT_EXTRACTOR_IMAGE = "ghcr.io/datagalaxy/online-connector-extractor:0.1.0"
# Requests/limits of every extractor container unless a connection's spec.run.resources says otherwise
# (the chart's `extractor.resources`, passed as OLC_EXTRACTOR_RESOURCES JSON).
DEFAULT_EXTRACTOR_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "100m", "memory": "256Mi"},
    "limits": {"memory": "1Gi"},
}


def _resources(text: str) -> dict[str, dict[str, str]]:
    if not text:
        return DEFAULT_EXTRACTOR_RESOURCES
    loaded = json.loads(text)
    return {
        section: {str(k): str(v) for k, v in (loaded.get(section) or {}).items()}
        for section in ("requests", "limits")
    }


CLUSTER_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9._]{0,61}[A-Za-z0-9])?$")


def checked_cluster_name(name: str) -> str:
    """`name` when it may stand in an owner marker (no `:` or `/`, 1-63 characters), else ValueError."""
    if name and not CLUSTER_NAME.match(name):
        raise ValueError(
            f"OLC_CLUSTER_NAME (chart value clusterName) {name[:80]!r} is not a valid cluster name: "
            "1-63 letters, digits, '-', '.' or '_', starting and ending with a letter or digit"
        )
    return name


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    extractor_image: str = DEFAULT_EXTRACTOR_IMAGE
    extractor_service_account: str | None = None
    require_secret_label: bool = False
    allowed_api_hosts: tuple[str, ...] = ()
    allowed_source_hosts: tuple[str, ...] = ()
    extractor_resources: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: DEFAULT_EXTRACTOR_RESOURCES
    )
    watch_namespaces: tuple[str, ...] = ()
    metrics_port: int = 9090
    liveness: str = "http://0.0.0.0:8080/healthz"
    standalone: bool = False
    peering: str | None = None
    # The cluster's identity in the owner marker on DataGalaxy sources: `clusterName` (OLC_CLUSTER_NAME)
    # when set, else the kube-system Namespace's UID, read once at startup (cluster_identity.py).
    cluster_id: str | None = None
    # Secrets are not watched (secret_reads.py): a connection Ready=False for a Secret reason is
    # re-checked this often, a Ready one every `secret_reverify_seconds` (secret_recheck.py).
    secret_recheck_seconds: float = 15.0
    secret_reverify_seconds: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            extractor_image=env.get("OLC_EXTRACTOR_IMAGE") or DEFAULT_EXTRACTOR_IMAGE,
            extractor_service_account=env.get("OLC_EXTRACTOR_SERVICE_ACCOUNT") or None,
            require_secret_label=env.get("OLC_REQUIRE_SECRET_LABEL", "").lower() == "true",
            allowed_api_hosts=_split(env.get("OLC_ALLOWED_API_HOSTS", "")),
            allowed_source_hosts=_split(env.get("OLC_ALLOWED_SOURCE_HOSTS", "")),
            extractor_resources=_resources(env.get("OLC_EXTRACTOR_RESOURCES", "")),
            watch_namespaces=_split(env.get("OLC_WATCH_NAMESPACES", "")),
            metrics_port=int(env.get("OLC_METRICS_PORT") or 9090),
            liveness=env.get("OLC_LIVENESS", "http://0.0.0.0:8080/healthz"),
            standalone=env.get("OLC_STANDALONE", "").lower() == "true",
            peering=env.get("OLC_PEERING") or None,
            cluster_id=checked_cluster_name(env.get("OLC_CLUSTER_NAME", "").strip()) or None,
            secret_recheck_seconds=float(env.get("OLC_SECRET_RECHECK_SECONDS") or 15.0),
            secret_reverify_seconds=float(env.get("OLC_SECRET_REVERIFY_SECONDS") or 300.0),
        )
