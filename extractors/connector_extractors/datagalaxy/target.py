"""Resolve the target: the workspace by name, then the version, as DataGalaxy's own toolbox does.

Versioning off: the workspace's `defaultVersionId` (a version name given anyway is ignored, with a
warning). Versioning on: the version must be named and must exist among `GET /workspaces/{id}/versions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.errors import ErrorCategory
from connector_extractors.run_config import TargetConfig

_LISTED_NAMES = 10


@dataclass(frozen=True)
class ResolvedTarget:
    workspace_id: str
    version_id: str
    version_name: str
    workspace_name: str = ""
    warnings: tuple[str, ...] = field(default=())


def _names(items: list[str]) -> str:
    shown = ", ".join(repr(n) for n in items[:_LISTED_NAMES])
    more = f" and {len(items) - _LISTED_NAMES} more" if len(items) > _LISTED_NAMES else ""
    return (shown + more) or "none"


def resolve_target(client: DataGalaxyClient, target: TargetConfig) -> ResolvedTarget:
    body = client.get_json(
        "/workspaces",
        params={"name": target.workspace},
        what=f"looking up workspace {target.workspace!r}",
        not_found=ErrorCategory.INVALID_CONFIGURATION,
    )
    projects = body.get("projects") if isinstance(body, dict) else None
    if not isinstance(projects, list):
        raise DataGalaxyError(ErrorCategory.TARGET_UNAVAILABLE, "GET /workspaces answered without 'projects'")
    matches = [p for p in projects if isinstance(p, dict) and p.get("name") == target.workspace]
    if not matches:
        # The `name` filter may not be honoured everywhere: list them all for the error message.
        everything = client.get_json("/workspaces", what="listing workspaces")
        listed = everything.get("projects") if isinstance(everything, dict) else None
        projects = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
        names = sorted(str(p.get("name")) for p in projects)
        matches = [p for p in projects if p.get("name") == target.workspace]
        if not matches:
            raise DataGalaxyError(
                ErrorCategory.WORKSPACE_NOT_FOUND,
                f"No workspace named {target.workspace!r} is visible to this token "
                f"(visible: {_names(names)})",
                "Check the workspace name (it is case-sensitive) and that the token was granted access to it "
                "(Workspace → Settings → Access).",
            )
    workspace = matches[0]
    if not workspace.get("id") or (
        not workspace.get("isVersioningEnabled") and not workspace.get("defaultVersionId")
    ):
        raise DataGalaxyError(
            ErrorCategory.TARGET_UNAVAILABLE,
            f"GET /workspaces described workspace {target.workspace!r} without its id or default version",
        )
    workspace_id = str(workspace["id"])
    if not workspace.get("isVersioningEnabled"):
        warnings: tuple[str, ...] = ()
        if target.version:
            warnings = (
                f"Workspace {target.workspace!r} does not use versioning: version {target.version!r} is "
                "ignored and the default version is used.",
            )
        return ResolvedTarget(
            workspace_id=workspace_id,
            version_id=str(workspace["defaultVersionId"]),
            version_name=str(workspace.get("defaultVersionName") or ""),
            workspace_name=target.workspace,
            warnings=warnings,
        )
    versions = list(
        client.iter_pages(
            f"/workspaces/{workspace_id}/versions",
            {"limit": 100},
            what=f"listing the versions of workspace {target.workspace!r}",
            not_found=ErrorCategory.WORKSPACE_NOT_FOUND,
        )
    )
    names = [str(v.get("versionName")) for v in versions]
    if not target.version:
        raise DataGalaxyError(
            ErrorCategory.VERSION_NOT_FOUND,
            f"Workspace {target.workspace!r} uses versioning: the target must name a version "
            f"(versions: {_names(names)})",
            "Set spec.target.version to one of the workspace's versions.",
        )
    for version in versions:
        if version.get("versionName") == target.version and version.get("versionId"):
            return ResolvedTarget(
                workspace_id=workspace_id,
                version_id=str(version["versionId"]),
                version_name=target.version,
                workspace_name=target.workspace,
            )
    raise DataGalaxyError(
        ErrorCategory.VERSION_NOT_FOUND,
        f"Workspace {target.workspace!r} has no version {target.version!r} (versions: {_names(names)})",
        "Check the version name (it is case-sensitive).",
    )
