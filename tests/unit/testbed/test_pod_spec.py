"""The process kubelet's translation of a pod spec into a local process (no cluster needed)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from connector_testbed.kubelet import MountPoints
from connector_testbed.pod_spec import ConfigError, PodPlanner, _expand


class FakeApi:
    def __init__(self, objects: dict[str, dict[str, Any]]) -> None:
        self.objects = objects

    def get(self, path: str, **kwargs: Any) -> dict[str, Any] | None:
        return self.objects.get(path)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


API = FakeApi(
    {
        "/api/v1/namespaces/ns/secrets/creds": {"data": {"password": b64("pw"), "user": b64("u")}},
        "/api/v1/namespaces/ns/configmaps/cfg": {"data": {"mode": "fast"}},
    }
)


def pod(container: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "labels": {"app": "x"}},
        "spec": {"containers": [container], "volumes": volumes or [], "nodeName": "n"},
    }


def test_env_sources_and_expansion(tmp_path: Path) -> None:
    container = {
        "name": "c",
        "command": ["echo", "$(GREETING)", "$$(LITERAL)"],
        "env": [
            {"name": "GREETING", "value": "hello-$(POD)"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        ],
        "envFrom": [{"secretRef": {"name": "creds"}, "prefix": "S_"}],
    }
    planner = PodPlanner(API, pod(container), tmp_path, "127.0.0.1", 6443)
    plan = planner.plan(container, planner.volumes())
    assert plan.env["PW"] == "pw"
    assert plan.env["MODE"] == "fast"
    assert plan.env["APP"] == "x"
    assert plan.env["S_user"] == "u"
    # Variables are expanded only from those defined before them, as Kubernetes does.
    assert plan.env["GREETING"] == "hello-$(POD)"
    assert plan.argv == ["echo", "hello-$(POD)", "$(LITERAL)"]
    assert plan.env["KUBERNETES_SERVICE_PORT"] == "6443"


def test_missing_secret_is_a_config_error(tmp_path: Path) -> None:
    container = {
        "name": "c",
        "command": ["true"],
        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k"}}}],
    }
    planner = PodPlanner(API, pod(container), tmp_path, "127.0.0.1", 6443)
    with pytest.raises(ConfigError, match='secret "absent" not found'):
        planner.plan(container, {})


def test_optional_missing_key_is_skipped(tmp_path: Path) -> None:
    container = {
        "name": "c",
        "command": ["true"],
        "env": [
            {"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nope", "optional": True}}}
        ],
    }
    planner = PodPlanner(API, pod(container), tmp_path, "127.0.0.1", 6443)
    assert "X" not in planner.plan(container, {}).env


def test_volumes_and_mounts(tmp_path: Path) -> None:
    volumes = [
        {"name": "s", "secret": {"secretName": "creds", "items": [{"key": "password", "path": "pw/file"}]}},
        {"name": "c", "configMap": {"name": "cfg"}},
        {"name": "t", "emptyDir": {}},
    ]
    container = {
        "name": "c",
        "command": ["true"],
        "volumeMounts": [
            {"name": "s", "mountPath": "/etc/s", "readOnly": True},
            {"name": "c", "mountPath": "/etc/c/mode", "subPath": "mode"},
            {"name": "t", "mountPath": "/tmp"},
        ],
    }
    planner = PodPlanner(API, pod(container, volumes), tmp_path, "127.0.0.1", 6443)
    paths = planner.volumes()
    assert (paths["s"] / "pw" / "file").read_text() == "pw"
    assert not (paths["s"] / "user").exists()
    plan = planner.plan(container, paths)
    targets = {m.target: m for m in plan.mounts}
    assert targets["/etc/s"].read_only
    assert targets["/etc/c/mode"].is_file
    assert "/dev/termination-log" in targets


def test_image_without_command_maps_to_project_entrypoint(tmp_path: Path) -> None:
    container = {"name": "c", "image": "ghcr.io/x/online-connector-extractor:1.0", "args": ["--check"]}
    planner = PodPlanner(API, pod(container), tmp_path, "127.0.0.1", 6443)
    assert planner.plan(container, {}).argv == ["online-connector-extract", "--check"]
    unknown = {"name": "c", "image": "busybox"}
    with pytest.raises(ConfigError, match="no known entrypoint"):
        planner.plan(unknown, {})


def test_expand_keeps_unknown_variables() -> None:
    assert _expand("$(A)-$(B)", {"A": "1"}) == "1-$(B)"


def test_mount_points_are_created_and_kept(tmp_path: Path) -> None:
    """Kept: unlinking a mount point that another namespace uses would detach that pod's mount."""
    mounts = MountPoints()
    a, b = tmp_path / "x" / "y" / "a", tmp_path / "x" / "y" / "b"
    mounts.acquire(str(a), is_file=False)
    mounts.acquire(str(b), is_file=True)
    assert a.is_dir()
    assert b.is_file()
    mounts.acquire(str(b), is_file=True)
    assert b.is_file()
