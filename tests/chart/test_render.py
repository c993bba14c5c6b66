"""What the chart renders: a singleton, restricted operator with least-privilege RBAC."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.helm import CHART, Doc, Helm, find, one

NAMESPACE = "olc-system"
GROUP = "connectors.datagalaxy.com"


@pytest.fixture(scope="module")
def defaults(helm: Helm) -> list[Doc]:
    return helm.template()


@pytest.fixture(scope="module")
def namespaced(helm: Helm) -> list[Doc]:
    return helm.template({"watch": {"namespaces": ["team-a", "team-b"]}})


def container(docs: list[Doc]) -> Doc:
    deployment = one(docs, "Deployment")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env_of(docs: list[Doc]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container(docs)["env"]}


def rules_allow(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    return any(
        group in rule.get("apiGroups", [])
        and resource in rule.get("resources", [])
        and (verb in rule.get("verbs", []) or "*" in rule.get("verbs", []))
        for rule in rules
    )


# --- the Deployment -----------------------------------------------------------------------------


def test_one_active_operator_replaced_not_rolled(defaults: list[Doc]) -> None:
    spec = one(defaults, "Deployment")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert env_of(defaults)["OLC_STANDALONE"] == "true"


def test_peering_replaces_standalone(helm: Helm) -> None:
    docs = helm.template({"peering": {"enabled": True, "name": "olc"}})
    assert env_of(docs)["OLC_PEERING"] == "olc"
    assert env_of(docs)["OLC_STANDALONE"] == "false"
    operator_role = one(docs, "ClusterRole", "-operator")
    assert rules_allow(operator_role["rules"], "kopf.dev", "clusterkopfpeerings", "patch")
    assert rules_allow(operator_role["rules"], "kopf.dev", "kopfpeerings", "patch")


def test_the_command_and_the_probes_use_kopf_liveness(defaults: list[Doc]) -> None:
    main = container(defaults)
    # `online-connector operator` takes no options: its settings are the OLC_* environment variables.
    assert main["command"] == ["online-connector", "operator"]
    assert "args" not in main
    assert env_of(defaults)["OLC_LIVENESS"] == "http://0.0.0.0:8080/healthz"
    ports = {port["name"]: port["containerPort"] for port in main["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    for probe in ("livenessProbe", "readinessProbe"):
        assert main[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert main["resources"]["requests"]["memory"]
    assert main["resources"]["limits"]["memory"]


def test_restricted_pod_security(defaults: list[Doc]) -> None:
    pod = one(defaults, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(defaults)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert not pod.get("hostNetwork")
    assert not pod.get("hostPID")
    assert not pod.get("hostIPC")
    assert all(set(volume) <= {"name", "emptyDir"} for volume in pod["volumes"])


def test_environment_contract(helm: Helm, defaults: list[Doc]) -> None:
    env = env_of(defaults)
    assert env["OLC_EXTRACTOR_IMAGE"] == "ghcr.io/datagalaxy/online-connector-extractor:0.1.0"
    assert env["OLC_EXTRACTOR_SERVICE_ACCOUNT"] == "olc-online-connector-extractor"
    assert env["OLC_REQUIRE_SECRET_LABEL"] == "false"
    assert env["OLC_ALLOWED_API_HOSTS"] == ""
    assert env["OLC_WATCH_NAMESPACES"] == ""
    assert env["OLC_METRICS_PORT"] == "9090"
    assert env["OLC_LIVENESS"] == "http://0.0.0.0:8080/healthz"
    assert env["OLC_STANDALONE"] == "true"
    assert "OLC_PEERING" not in env

    digest = "sha256:" + "a" * 64
    docs = helm.template(
        {
            "image": {"extractor": {"repository": "registry.local/x", "digest": digest}},
            "security": {"requireSecretLabel": True, "allowedApiHosts": ["*.datagalaxy.com", "dg.local"]},
            "watch": {"namespaces": ["team-a", "team-b"]},
            "metrics": {"enabled": False},
        }
    )
    env = env_of(docs)
    assert env["OLC_EXTRACTOR_IMAGE"] == f"registry.local/x@{digest}"
    assert env["OLC_REQUIRE_SECRET_LABEL"] == "true"
    assert env["OLC_ALLOWED_API_HOSTS"] == "*.datagalaxy.com,dg.local"
    assert env["OLC_WATCH_NAMESPACES"] == "team-a,team-b"
    assert env["OLC_METRICS_PORT"] == "-1"


def test_images_by_tag_or_digest(helm: Helm) -> None:
    docs = helm.template({"image": {"operator": {"repository": "r/op", "tag": "1.2.3"}}})
    assert container(docs)["image"] == "r/op:1.2.3"
    digest = "sha256:" + "b" * 64
    docs = helm.template({"image": {"operator": {"repository": "r/op", "tag": "1.2.3", "digest": digest}}})
    assert container(docs)["image"] == f"r/op@{digest}"


# --- RBAC ---------------------------------------------------------------------------------------


OPERATOR_NEEDS = [
    (GROUP, "onlineconnections", ["get", "list", "watch", "patch"]),
    (GROUP, "onlineconnections/status", ["get", "patch", "update"]),
    (GROUP, "onlineconnections/finalizers", ["update"]),
    ("batch", "jobs", ["get", "list", "watch", "create", "delete", "patch"]),
    ("batch", "cronjobs", ["get", "list", "watch", "create", "delete", "patch"]),
    ("", "pods", ["list"]),
    ("", "secrets", ["get"]),  # per-reference reads; never list/watch (secret_reads.py)
    ("", "events", ["create", "patch"]),
    ("events.k8s.io", "events", ["create", "patch"]),
]
CLUSTER_NEEDS = [
    ("apiextensions.k8s.io", "customresourcedefinitions", ["get", "list", "watch"]),
    ("", "namespaces", ["list", "watch"]),
    ("", "namespaces[kube-system]", ["get"]),  # the cluster id of owner markers (no clusterName set)
]


def granted(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, named(resource, rule), verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def named(resource: str, rule: dict[str, Any]) -> str:
    """`resource`, or `resource[name,...]` for a rule restricted by `resourceNames`."""
    names = rule.get("resourceNames")
    return f"{resource}[{','.join(names)}]" if names else resource


def intended(*needs: list[tuple[str, str, list[str]]]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for need in needs for g, r, verbs in need for v in verbs}


def test_rendered_rbac_equals_the_intended_list(defaults: list[Doc], namespaced: list[Doc]) -> None:
    """Issue 10: Secrets are read by name (`get`), never listed or watched; no `pods/log` or
    `pods get/watch` (unused; CronJobs are watched now)."""
    cluster_wide = one(defaults, "ClusterRole", "-operator")
    assert granted(cluster_wide["rules"]) == intended(OPERATOR_NEEDS, CLUSTER_NEEDS)
    for ns in ("team-a", "team-b"):
        assert granted(one(namespaced, "Role", "-operator", namespace=ns)["rules"]) == intended(
            OPERATOR_NEEDS
        )
    assert granted(one(namespaced, "ClusterRole", "-operator-discovery")["rules"]) == intended(CLUSTER_NEEDS)


KUBE_SYSTEM_GET = {
    "apiGroups": [""],
    "resources": ["namespaces"],
    "resourceNames": ["kube-system"],
    "verbs": ["get"],
}


def reads_only_kube_system(rules: list[dict[str, Any]]) -> bool:
    """`get` on namespaces (the cluster id of owner markers) is granted for kube-system only."""
    gets = [r for r in rules if "namespaces" in r["resources"] and "get" in r["verbs"]]
    return gets == [KUBE_SYSTEM_GET]


def test_a_cluster_name_replaces_reading_kube_system(helm: Helm, defaults: list[Doc]) -> None:
    assert "OLC_CLUSTER_NAME" not in env_of(defaults)
    docs = helm.template({"clusterName": "prod-eu-1"})
    assert env_of(docs)["OLC_CLUSTER_NAME"] == "prod-eu-1"
    rules = one(docs, "ClusterRole", "-operator")["rules"]
    assert not any("namespaces" in r["resources"] and "get" in r["verbs"] for r in rules)


def test_cluster_wide_rbac_grants_what_the_operator_needs_and_no_more(defaults: list[Doc]) -> None:
    role = one(defaults, "ClusterRole", "-operator")
    rules = role["rules"]
    for group, resource, verbs in OPERATOR_NEEDS:
        for verb in verbs:
            assert rules_allow(rules, group, resource, verb), f"missing {verb} {group}/{resource}"
    assert rules_allow(rules, "apiextensions.k8s.io", "customresourcedefinitions", "list")
    assert rules_allow(rules, "", "namespaces", "watch")
    assert reads_only_kube_system(rules)
    # Least privilege: no wildcards, no writes to Secrets or to connection specs beyond patch.
    for rule in rules:
        assert "*" not in rule["verbs"]
        assert "*" not in rule["resources"]
        assert "*" not in rule["apiGroups"]
    for verb in ("create", "update", "patch", "delete"):
        assert not rules_allow(rules, "", "secrets", verb)
    assert not rules_allow(rules, GROUP, "onlineconnections", "create")
    assert not rules_allow(rules, GROUP, "onlineconnections", "delete")
    assert not rules_allow(rules, "", "pods", "create")
    assert not rules_allow(rules, "", "serviceaccounts/token", "create")
    binding = one(defaults, "ClusterRoleBinding", "-operator")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "olc-online-connector", "namespace": NAMESPACE}
    ]
    assert not find(defaults, "Role")
    assert not find(defaults, "RoleBinding")


def test_namespaced_rbac_is_a_role_per_watched_namespace(namespaced: list[Doc]) -> None:
    for ns in ("team-a", "team-b"):
        role = one(namespaced, "Role", "-operator", namespace=ns)
        for group, resource, verbs in OPERATOR_NEEDS:
            for verb in verbs:
                assert rules_allow(role["rules"], group, resource, verb)
        binding = one(namespaced, "RoleBinding", "-operator", namespace=ns)
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        }
        assert binding["subjects"][0]["namespace"] == NAMESPACE
    # Cluster-wide, only discovery: no Secrets, no Jobs, no connections.
    cluster_roles = [
        r for r in find(namespaced, "ClusterRole") if r["metadata"]["name"].endswith("-discovery")
    ]
    assert len(cluster_roles) == 1
    rules = cluster_roles[0]["rules"]
    assert {resource for rule in rules for resource in rule["resources"]} == {
        "customresourcedefinitions",
        "namespaces",
    }
    assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in rules)
    assert reads_only_kube_system(rules)
    assert not find(namespaced, "ClusterRole", "-operator")
    assert len(find(namespaced, "ClusterRoleBinding")) == 1


def test_extractor_account_has_no_token_and_no_binding(namespaced: list[Doc]) -> None:
    accounts = find(namespaced, "ServiceAccount", "-extractor")
    assert sorted(a["metadata"]["namespace"] for a in accounts) == sorted([NAMESPACE, "team-a", "team-b"])
    for account in accounts:
        assert account["automountServiceAccountToken"] is False
    for binding in find(namespaced, "RoleBinding") + find(namespaced, "ClusterRoleBinding"):
        assert all(not s["name"].endswith("-extractor") for s in binding["subjects"])


def test_connections_are_managed_by_admin_and_read_by_view_never_edit(defaults: list[Doc]) -> None:
    admin = one(defaults, "ClusterRole", "-admin")
    view = one(defaults, "ClusterRole", "-view")
    admin_labels = admin["metadata"]["labels"]
    view_labels = view["metadata"]["labels"]
    assert admin_labels.get("rbac.authorization.k8s.io/aggregate-to-admin") == "true"
    assert view_labels.get("rbac.authorization.k8s.io/aggregate-to-view") == "true"
    for labels in (admin_labels, view_labels):
        assert "rbac.authorization.k8s.io/aggregate-to-edit" not in labels
    assert "rbac.authorization.k8s.io/aggregate-to-admin" not in view_labels
    for verb in ("create", "update", "patch", "delete"):
        assert rules_allow(admin["rules"], GROUP, "onlineconnections", verb)
        assert not rules_allow(view["rules"], GROUP, "onlineconnections", verb)
    assert rules_allow(view["rules"], GROUP, "onlineconnections/status", "get")
    # Nobody but the operator writes status.
    assert not rules_allow(admin["rules"], GROUP, "onlineconnections/status", "patch")


def test_aggregation_can_be_turned_off(helm: Helm) -> None:
    docs = helm.template({"rbac": {"aggregateToAdmin": False, "aggregateToView": False}})
    assert not find(docs, "ClusterRole", "-admin")
    assert not find(docs, "ClusterRole", "-view")


# --- the rest -----------------------------------------------------------------------------------


def test_metrics_service_and_service_monitor(helm: Helm, defaults: list[Doc]) -> None:
    service = one(defaults, "Service", "-metrics")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"metrics": 9090, "health": 8080}
    assert service["spec"]["selector"] == one(defaults, "Deployment")["spec"]["selector"]["matchLabels"]
    assert not find(defaults, "ServiceMonitor")
    docs = helm.template({"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}})
    monitor = one(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= one(docs, "Service", "-metrics")["metadata"]["labels"].items()


def test_pod_disruption_budget_never_blocks_drains(defaults: list[Doc]) -> None:
    pdb = one(defaults, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == one(defaults, "Deployment")["spec"]["selector"]


def test_network_policies_are_on_by_default_and_never_open_private_ranges(defaults: list[Doc]) -> None:
    one(defaults, "NetworkPolicy", "-operator", namespace=NAMESPACE)
    extractor = one(defaults, "NetworkPolicy", "-extractor", namespace=NAMESPACE)["spec"]
    to_datagalaxy = extractor["egress"][1]
    assert [p["port"] for p in to_datagalaxy["ports"]] == [443]
    (peer,) = to_datagalaxy["to"]
    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(peer["ipBlock"]["except"])
    assert len(extractor["egress"]) == 2  # DNS and DataGalaxy: no source until one is listed


def test_network_policies(helm: Helm, defaults: list[Doc]) -> None:
    docs = helm.template(
        {
            "watch": {"namespaces": ["team-a"]},
            "networkPolicy": {
                "enabled": True,
                "apiServer": {"cidrs": ["10.0.0.1/32"], "ports": [443]},
                "extractor": {
                    "datagalaxy": {"cidrs": ["203.0.113.0/24"], "ports": [443]},
                    "sources": [{"cidrs": ["10.1.0.0/16"], "ports": [5432, 3306]}],
                },
            },
        }
    )
    operator = one(docs, "NetworkPolicy", "-operator", namespace=NAMESPACE)
    assert operator["spec"]["policyTypes"] == ["Ingress", "Egress"]
    api = operator["spec"]["egress"][1]
    assert api["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}]
    assert find(docs, "NetworkPolicy", "-extractor", namespace=NAMESPACE)
    extractor = one(docs, "NetworkPolicy", "-extractor", namespace="team-a")
    spec = extractor["spec"]
    assert spec["ingress"] == []
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    egress_cidrs = [
        peer["ipBlock"]["cidr"] for rule in spec["egress"] for peer in rule.get("to", []) if "ipBlock" in peer
    ]
    assert egress_cidrs == ["203.0.113.0/24", "10.1.0.0/16"]
    assert [p["port"] for p in spec["egress"][2]["ports"]] == [5432, 3306]


def test_helm_test_hook_checks_health_and_metrics(defaults: list[Doc]) -> None:
    pod = one(defaults, "Pod", "-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    check = spec["containers"][0]
    assert check["securityContext"]["allowPrivilegeEscalation"] is False
    assert check["command"][-4:] == [
        f"http://olc-online-connector-metrics.{NAMESPACE}.svc:8080",
        "true",
        f"http://olc-online-connector-metrics.{NAMESPACE}.svc:9090",
        "30",
    ]
    # The test pod must not be selected by the operator's Service.
    service = one(defaults, "Service", "-metrics")
    assert not service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_notes_mention_the_argocd_health_check() -> None:
    # helm renders NOTES.txt only on install; tests/e2e/test_helm_install.py checks the rendered text.
    notes = (CHART / "templates" / "NOTES.txt").read_text()
    assert "docs/argocd/health.lua" in notes
    assert "resource.customizations.health.connectors.datagalaxy.com_OnlineConnection" in notes


def test_the_operator_command_parses(defaults: list[Doc]) -> None:
    """The chart's command line is one that the operator's CLI accepts."""
    from connector_operator.cli import build_parser

    command = container(defaults)["command"]
    assert command[0] == "online-connector"
    assert build_parser().parse_args(command[1:]).command == "operator"


def test_the_environment_is_what_the_operator_reads(helm: Helm) -> None:
    from connector_operator.settings import Settings

    docs = helm.template(
        {
            "watch": {"namespaces": ["team-a"]},
            "security": {"requireSecretLabel": True, "allowedApiHosts": ["*.datagalaxy.com"]},
            "peering": {"enabled": True, "name": "olc"},
        }
    )
    settings = Settings.from_env(env_of(docs))
    assert settings.extractor_image == "ghcr.io/datagalaxy/online-connector-extractor:0.1.0"
    assert settings.extractor_service_account == "olc-online-connector-extractor"
    assert settings.require_secret_label is True
    assert settings.allowed_api_hosts == ("*.datagalaxy.com",)
    assert settings.watch_namespaces == ("team-a",)
    assert settings.metrics_port == 9090
    assert settings.liveness == "http://0.0.0.0:8080/healthz"
    assert settings.standalone is False
    assert settings.peering == "olc"
    assert settings.extractor_resources == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "1Gi"},
    }
    disabled = Settings.from_env(env_of(helm.template({"metrics": {"enabled": False}})))
    assert disabled.metrics_port < 0, "metrics.enabled=false must not start a metrics server"


def test_extractor_network_policy_selects_the_pods_the_operator_labels(helm: Helm) -> None:
    from connector_operator.naming import labels

    docs = helm.template({"watch": {"namespaces": ["team-a"]}, "networkPolicy": {"enabled": True}})
    selector = one(docs, "NetworkPolicy", "-extractor", namespace="team-a")["spec"]["podSelector"][
        "matchLabels"
    ]
    for mode in ("import", "test"):
        pod_labels = labels("shop", "uid-1", mode, "manual")
        assert selector.items() <= pod_labels.items(), (selector, pod_labels)


def test_one_default_extractor_image_for_the_chart_and_the_operator(defaults: list[Doc]) -> None:
    from connector_operator.settings import DEFAULT_EXTRACTOR_IMAGE, DEFAULT_EXTRACTOR_RESOURCES

    assert env_of(defaults)["OLC_EXTRACTOR_IMAGE"] == DEFAULT_EXTRACTOR_IMAGE
    assert env_of(defaults)["OLC_EXTRACTOR_RESOURCES"] == json.dumps(
        DEFAULT_EXTRACTOR_RESOURCES, separators=(",", ":"), sort_keys=True
    )


def test_the_source_host_allowlist_reaches_the_operator(helm: Helm) -> None:
    from connector_operator.settings import Settings

    docs = helm.template({"security": {"allowedSourceHosts": ["10.0.0.0/8", "*.db.svc"]}})
    assert Settings.from_env(env_of(docs)).allowed_source_hosts == ("10.0.0.0/8", "*.db.svc")
