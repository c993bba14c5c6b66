"""The chart's RBAC on a real API server, checked by impersonation (`kubectl auth can-i --as`)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.fixtures.helm import CHART, Helm, HelmRelease, create_restricted_namespace

pytestmark = pytest.mark.e2e
OLC = "onlineconnections.connectors.datagalaxy.com"


def can(control_plane: ControlPlane, verb: str, resource: str, namespace: str | None, *who: str) -> bool:
    scope = ["-n", namespace] if namespace else []
    # `kubectl auth can-i verb a/b` reads b as an object name: subresources go in --subresource.
    base, _, subresource = resource.partition("/")
    extra = [f"--subresource={subresource}"] if subresource else []
    result = control_plane.kubectl("auth", "can-i", verb, base, *scope, *extra, *who, check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), f"kubectl auth can-i: {result.stdout}{result.stderr}"
    return answer == "yes"


def bind(control_plane: ControlPlane, namespace: str, role: str, user: str) -> None:
    control_plane.kubectl(
        "create", "rolebinding", f"{user}-{role}", "-n", namespace, f"--clusterrole={role}", f"--user={user}"
    )


def as_user(user: str) -> tuple[str, ...]:
    return (f"--as={user}", "--as-group=system:authenticated")


def as_account(namespace: str, name: str) -> tuple[str, ...]:
    return (
        f"--as=system:serviceaccount:{namespace}:{name}",
        "--as-group=system:serviceaccounts",
        f"--as-group=system:serviceaccounts:{namespace}",
        "--as-group=system:authenticated",
    )


def test_edit_cannot_manage_connections_admin_can_view_reads(
    control_plane: ControlPlane, helm_release: HelmRelease
) -> None:
    ns = helm_release.watched
    bind(control_plane, ns, "edit", "erin-editor")
    bind(control_plane, ns, "admin", "ada-admin")
    bind(control_plane, ns, "view", "victor-viewer")
    editor, admin, viewer = as_user("erin-editor"), as_user("ada-admin"), as_user("victor-viewer")

    for verb in ("create", "update", "patch", "delete"):
        assert not can(control_plane, verb, OLC, ns, *editor), f"edit may {verb} OnlineConnections"
        assert can(control_plane, verb, OLC, ns, *admin), f"admin may not {verb} OnlineConnections"
        assert not can(control_plane, verb, OLC, ns, *viewer)
    for who in (editor, admin, viewer):
        assert can(control_plane, "get", OLC, ns, *who)
        assert can(control_plane, "list", OLC, ns, *who)
        assert can(control_plane, "get", f"{OLC}/status", ns, *who)
        # Only the operator writes status.
        assert not can(control_plane, "patch", f"{OLC}/status", ns, *who)


def test_a_real_edit_user_is_refused_and_a_real_admin_is_not(
    control_plane: ControlPlane, helm_release: HelmRelease
) -> None:
    """The same through an actual request (server-side dry run), not only the authorizer's answer."""
    ns = helm_release.watched
    manifest = (
        '{"apiVersion": "connectors.datagalaxy.com/v1alpha1", "kind": "OnlineConnection",'
        ' "metadata": {"name": "probe"}, "spec": {"source": {"technology": "sqlite", "path": "/x.db"},'
        ' "target": {"apiUrl": "https://api.datagalaxy.com/v2", "workspace": "W", "sourceName": "S",'
        ' "tokenSecretRef": {"name": "t", "key": "k"}}}}'
    )
    bind(control_plane, ns, "edit", "eve-editor")
    bind(control_plane, ns, "admin", "abe-admin")
    refused = control_plane.kubectl(
        "create", "--dry-run=server", "-n", ns, "-f", "-", *as_user("eve-editor"), input=manifest, check=False
    )
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.lower()
    control_plane.kubectl(
        "create", "--dry-run=server", "-n", ns, "-f", "-", *as_user("abe-admin"), input=manifest
    )


def test_the_extractor_account_can_do_nothing(control_plane: ControlPlane, helm_release: HelmRelease) -> None:
    for ns in (helm_release.watched, helm_release.namespace):
        extractor = as_account(ns, helm_release.extractor_account)
        for verb, resource in [
            ("get", "secrets"),
            ("list", "secrets"),
            ("get", "pods"),
            ("create", "pods"),
            ("list", "configmaps"),
            ("get", OLC),
            ("list", OLC),
            ("create", "jobs.batch"),
            ("get", "jobs.batch"),
            ("create", "events"),
            ("create", "serviceaccounts/token"),
        ]:
            assert not can(control_plane, verb, resource, ns, *extractor), f"extractor may {verb} {resource}"
        for verb, resource in [
            ("list", "namespaces"),
            ("list", "customresourcedefinitions"),
            ("list", "nodes"),
        ]:
            assert not can(control_plane, verb, resource, None, *extractor)


def test_the_extractor_account_has_no_token_mounted(
    control_plane: ControlPlane, helm_release: HelmRelease
) -> None:
    for ns in (helm_release.watched, helm_release.namespace):
        out = control_plane.kubectl(
            "get",
            "serviceaccount",
            helm_release.extractor_account,
            "-n",
            ns,
            "-o",
            "jsonpath={.automountServiceAccountToken}",
        ).stdout
        assert out == "false"


def test_the_operator_account_has_what_it_needs_where_it_watches(
    control_plane: ControlPlane, helm_release: HelmRelease
) -> None:
    ns = helm_release.watched
    operator = as_account(helm_release.namespace, helm_release.operator_account)
    needed = [
        ("watch", OLC),
        ("patch", OLC),
        ("patch", f"{OLC}/status"),
        ("update", f"{OLC}/status"),
        ("create", "jobs.batch"),
        ("delete", "jobs.batch"),
        ("create", "cronjobs.batch"),
        ("patch", "cronjobs.batch"),
        ("list", "pods"),
        ("get", "secrets"),  # only the Secrets a connection references, by name (secret_reads.py)
        ("create", "events"),
        ("create", "events.events.k8s.io"),
    ]
    for verb, resource in needed:
        assert can(control_plane, verb, resource, ns, *operator), f"operator may not {verb} {resource}"
    for verb, resource in [
        ("create", OLC),
        ("delete", OLC),
        ("update", OLC),
        ("create", "secrets"),
        ("update", "secrets"),
        ("delete", "secrets"),
        ("create", "pods"),
        # Issue 10: no Secret watch (it would hand over every Secret's values); granted once, never used.
        ("list", "secrets"),
        ("watch", "secrets"),
        ("get", "pods/log"),
        ("watch", "pods"),
        ("create", "rolebindings.rbac.authorization.k8s.io"),
        ("create", "serviceaccounts/token"),
    ]:
        assert not can(control_plane, verb, resource, ns, *operator), f"operator may {verb} {resource}"
    assert can(control_plane, "list", "customresourcedefinitions", None, *operator)
    assert can(control_plane, "watch", "namespaces", None, *operator)


def test_the_operator_cannot_read_secrets_outside_its_namespaces(
    control_plane: ControlPlane, helm_release: HelmRelease
) -> None:
    other = create_restricted_namespace(control_plane, "olc-other")
    try:
        operator = as_account(helm_release.namespace, helm_release.operator_account)
        for verb, resource in [
            ("get", "secrets"),
            ("list", "secrets"),
            ("list", OLC),
            ("create", "jobs.batch"),
        ]:
            assert not can(control_plane, verb, resource, other, *operator)
        assert not can(control_plane, "list", "secrets", None, *operator), "cluster-wide Secret access"
    finally:
        control_plane.kubectl("delete", "namespace", other, "--wait=false", check=False)


@pytest.fixture(scope="module")
def cluster_wide_release(control_plane: ControlPlane, helm: Helm) -> Iterator[tuple[str, str]]:
    """A second release in the default, cluster-wide mode (RBAC checks only: no operator runs)."""
    namespace = create_restricted_namespace(control_plane, "olc-cw")
    name = f"cw{secrets.token_hex(3)}"
    helm.run("install", name, str(CHART), "--namespace", namespace, kubeconfig=control_plane.kubeconfig)
    try:
        yield name, namespace
    finally:
        helm.run(
            "uninstall", name, "--namespace", namespace, kubeconfig=control_plane.kubeconfig, check=False
        )
        control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_cluster_wide_mode_grants_the_same_rights_in_every_namespace(
    control_plane: ControlPlane, cluster_wide_release: tuple[str, str]
) -> None:
    name, namespace = cluster_wide_release
    operator = as_account(namespace, f"{name}-online-connector")
    anywhere = create_restricted_namespace(control_plane, "olc-any")
    try:
        for ns in (anywhere, None):
            for verb, resource in [("watch", OLC), ("patch", f"{OLC}/status"), ("get", "secrets")]:
                assert can(control_plane, verb, resource, ns, *operator), f"{verb} {resource} in {ns}"
            assert not can(control_plane, "watch", "secrets", ns, *operator), f"watch secrets in {ns}"
        assert can(control_plane, "create", "jobs.batch", anywhere, *operator)
        for verb, resource in [("create", "secrets"), ("create", OLC), ("delete", OLC), ("create", "pods")]:
            assert not can(control_plane, verb, resource, anywhere, *operator)
        extractor = as_account(namespace, f"{name}-online-connector-extractor")
        assert not can(control_plane, "get", "secrets", namespace, *extractor)
        assert not can(control_plane, "list", OLC, None, *extractor)
    finally:
        control_plane.kubectl("delete", "namespace", anywhere, "--wait=false", check=False)
