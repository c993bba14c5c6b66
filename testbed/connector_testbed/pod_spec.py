"""Turns a pod's spec into what a local process needs: env, volume files, mounts and argv.

How an image maps to a local command: the container's `command` (plus `args`) runs as given, with the
first word looked up on a PATH that starts with this Python environment's `bin` folder, so the pod's
command must be one that this project installs (`online-connector`, `online-connector-extract`, `python`).
The image is ignored, except for a container without a `command`, where IMAGE_ENTRYPOINTS gives the
entrypoint of this project's own images.
"""

from __future__ import annotations

import base64
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

JSON = dict[str, Any]

IMAGE_ENTRYPOINTS: dict[str, list[str]] = {
    "online-connector-extractor": ["online-connector-extract"],
    "online-connector-operator": ["online-connector", "operator"],
}
DEFAULT_TERMINATION_PATH = "/dev/termination-log"


class ConfigError(Exception):
    """The pod cannot start yet (a missing Secret or key): the kubelet's CreateContainerConfigError."""


class ObjectReader(Protocol):
    def get(self, path: str, **kwargs: Any) -> JSON | None: ...


@dataclass
class Mount:
    source: Path
    target: str
    read_only: bool = False
    is_file: bool = False


@dataclass
class ContainerPlan:
    name: str
    argv: list[str]
    env: dict[str, str]
    working_dir: str
    mounts: list[Mount]
    termination_file: Path
    termination_policy: str
    read_only_root: bool
    log_file: Path
    extra: JSON = field(default_factory=dict)


def _decode(data: dict[str, str] | None, binary: bool) -> dict[str, bytes]:
    if not data:
        return {}
    if binary:
        return {k: base64.b64decode(v) for k, v in data.items()}
    return {k: v.encode() for k, v in data.items()}


class PodPlanner:
    def __init__(self, api: ObjectReader, pod: JSON, pod_dir: Path, api_host: str, api_port: int) -> None:
        self.api = api
        self.pod = pod
        self.pod_dir = pod_dir
        self.namespace = pod["metadata"]["namespace"]
        self.api_host = api_host
        self.api_port = api_port
        self._cache: dict[tuple[str, str], dict[str, bytes] | None] = {}

    def _object_data(self, kind: str, name: str) -> dict[str, bytes] | None:
        key = (kind, name)
        if key not in self._cache:
            plural = "secrets" if kind == "Secret" else "configmaps"
            obj = self.api.get(f"/api/v1/namespaces/{self.namespace}/{plural}/{name}", ok404=True)
            if obj is None:
                self._cache[key] = None
            else:
                data = _decode(obj.get("data"), binary=kind == "Secret")
                data.update(_decode(obj.get("binaryData"), binary=True))
                self._cache[key] = data
        return self._cache[key]

    def _key_ref(self, kind: str, ref: JSON) -> str | None:
        data = self._object_data(kind, ref["name"])
        optional = bool(ref.get("optional"))
        if data is None:
            if optional:
                return None
            raise ConfigError(f'{kind.lower()} "{ref["name"]}" not found')
        if ref["key"] not in data:
            if optional:
                return None
            raise ConfigError(f"couldn't find key {ref['key']} in {kind} {self.namespace}/{ref['name']}")
        return data[ref["key"]].decode(errors="replace")

    def _field_ref(self, path: str) -> str:
        meta = self.pod["metadata"]
        simple = {
            "metadata.name": meta.get("name", ""),
            "metadata.namespace": self.namespace,
            "metadata.uid": meta.get("uid", ""),
            "spec.nodeName": self.pod["spec"].get("nodeName", ""),
            "spec.serviceAccountName": self.pod["spec"].get("serviceAccountName", ""),
            "status.podIP": "127.0.0.1",
            "status.hostIP": "127.0.0.1",
        }
        if path in simple:
            return str(simple[path])
        match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if match:
            return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
        raise ConfigError(f"unsupported fieldRef {path}")

    def env(self, container: JSON) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        env: dict[str, str] = {
            "PATH": os.pathsep.join(
                [venv_bin, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            ),
            "HOSTNAME": self.pod["metadata"]["name"],
            "HOME": "/tmp",  # noqa: S108 - writable emptyDir in this project's pods
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "KUBERNETES_SERVICE_HOST": self.api_host,
            "KUBERNETES_SERVICE_PORT": str(self.api_port),
        }
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in source:
                    data = self._object_data(kind, source[key]["name"])
                    if data is None:
                        if source[key].get("optional"):
                            continue
                        raise ConfigError(f'{kind.lower()} "{source[key]["name"]}" not found')
                    env.update({prefix + k: v.decode(errors="replace") for k, v in data.items()})
        for item in container.get("env") or []:
            value: str | None
            if "valueFrom" in item:
                source = item["valueFrom"]
                if "secretKeyRef" in source:
                    value = self._key_ref("Secret", source["secretKeyRef"])
                elif "configMapKeyRef" in source:
                    value = self._key_ref("ConfigMap", source["configMapKeyRef"])
                elif "fieldRef" in source:
                    value = self._field_ref(source["fieldRef"]["fieldPath"])
                else:
                    value = "0"  # resourceFieldRef: no resource accounting here
            else:
                value = _expand(item.get("value", ""), env)
            if value is not None:
                env[item["name"]] = value
        return env

    def volumes(self) -> dict[str, Path]:
        """Materialise the pod's volumes as folders under the pod folder."""
        paths: dict[str, Path] = {}
        for volume in self.pod["spec"].get("volumes") or []:
            path = self.pod_dir / "volumes" / volume["name"]
            path.mkdir(parents=True, exist_ok=True)
            if "secret" in volume:
                src = volume["secret"]
                self._write_items(path, "Secret", src["secretName"], src, src.get("defaultMode", 0o644))
            elif "configMap" in volume:
                src = volume["configMap"]
                self._write_items(path, "ConfigMap", src["name"], src, src.get("defaultMode", 0o644))
            elif "projected" in volume:
                for source in volume["projected"].get("sources") or []:
                    if "secret" in source:
                        self._write_items(path, "Secret", source["secret"]["name"], source["secret"], 0o644)
                    elif "configMap" in source:
                        self._write_items(
                            path, "ConfigMap", source["configMap"]["name"], source["configMap"], 0o644
                        )
            elif "emptyDir" in volume:
                path.chmod(0o1777)
            elif "downwardAPI" in volume:
                for item in volume["downwardAPI"].get("items") or []:
                    if "fieldRef" in item:
                        (path / item["path"]).write_text(self._field_ref(item["fieldRef"]["fieldPath"]))
            else:
                raise ConfigError(
                    f"volume {volume['name']}: only secret, configMap, projected, emptyDir and "
                    "downwardAPI volumes are supported by the process kubelet"
                )
            paths[volume["name"]] = path
        return paths

    def _write_items(self, path: Path, kind: str, name: str, src: JSON, mode: int) -> None:
        data = self._object_data(kind, name)
        if data is None:
            if src.get("optional"):
                return
            raise ConfigError(f'{kind.lower()} "{name}" not found')
        items = src.get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            if item["key"] not in data:
                raise ConfigError(f"couldn't find key {item['key']} in {kind} {self.namespace}/{name}")
            target = path / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data[item["key"]])
            target.chmod(item.get("mode", mode))

    def plan(self, container: JSON, volumes: dict[str, Path]) -> ContainerPlan:
        name = container["name"]
        command = list(container.get("command") or [])
        if not command:
            image = str(container.get("image", ""))
            entry = next((v for k, v in IMAGE_ENTRYPOINTS.items() if k in image), None)
            if entry is None:
                raise ConfigError(f"image {image} has no known entrypoint here: give the container a command")
            command = list(entry)
        env = self.env(container)
        argv = [_expand(a, env) for a in command + list(container.get("args") or [])]
        mounts = [
            Mount(
                volumes[m["name"]] / m.get("subPath", ""),
                m["mountPath"],
                bool(m.get("readOnly")),
                is_file=(volumes[m["name"]] / m.get("subPath", "")).is_file(),
            )
            for m in container.get("volumeMounts") or []
        ]
        termination_path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_PATH
        termination_file = self.pod_dir / f"{name}.termination-log"
        termination_file.write_text("")
        termination_file.chmod(0o666)
        mounts.append(Mount(termination_file, termination_path, is_file=True))
        security = container.get("securityContext") or {}
        return ContainerPlan(
            name=name,
            argv=argv,
            env=env,
            working_dir=container.get("workingDir") or "/",
            mounts=mounts,
            termination_file=termination_file,
            termination_policy=container.get("terminationMessagePolicy") or "File",
            read_only_root=bool(security.get("readOnlyRootFilesystem")),
            log_file=self.pod_dir / f"{name}.log",
        )


def _expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion; $$(VAR) escapes."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0).startswith("$$"):
            return match.group(0)[1:]
        return env.get(match.group(1), match.group(0))

    return re.sub(r"\$?\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", replace, value)
