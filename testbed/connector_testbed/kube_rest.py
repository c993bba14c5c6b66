"""A minimal Kubernetes REST client over httpx (JSON in, JSON out), for the process kubelet.

It reads a token-based kubeconfig as written by the control plane.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

JSON = dict[str, Any]


class KubeRest:
    def __init__(self, kubeconfig: Path) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        self.server = str(cluster["server"])
        self.ca_file = Path(cluster["certificate-authority"])
        context = ssl.create_default_context(cafile=str(self.ca_file))
        self._client = httpx.Client(
            base_url=self.server,
            verify=context,
            headers={"Authorization": f"Bearer {user['token']}"},
            timeout=httpx.Timeout(30.0, read=None),
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        content_type: str = "application/json",
        ok404: bool = False,
    ) -> JSON | None:
        content = None if body is None else json.dumps(body)
        response = self._client.request(
            method, path, content=content, params=params, headers={"Content-Type": content_type}
        )
        if ok404 and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise httpx.HTTPStatusError(
                f"{method} {path}: {response.status_code} {response.text[:500]}",
                request=response.request,
                response=response,
            )
        return dict(response.json()) if response.content else {}

    def get(self, path: str, **kwargs: Any) -> JSON | None:
        return self.request("GET", path, **kwargs)

    def merge_patch(self, path: str, body: JSON) -> JSON | None:
        return self.request("PATCH", path, body, content_type="application/merge-patch+json", ok404=True)

    def watch(self, path: str, params: dict[str, Any]) -> Iterator[JSON]:
        query = {**params, "watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": "300"}
        with self._client.stream("GET", path, params=query) as response:
            if response.status_code >= 400:
                response.read()
                raise httpx.HTTPStatusError(
                    f"watch {path}: {response.status_code}", request=response.request, response=response
                )
            for line in response.iter_lines():
                if line:
                    yield dict(json.loads(line))
