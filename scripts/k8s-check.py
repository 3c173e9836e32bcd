#!/usr/bin/env python3
"""Render the Kustomize overlays and check what the cluster would get.

    python3 scripts/k8s-check.py                  # every overlay, every check
    python3 scripts/k8s-check.py --validate-only  # render + schema validation only
    python3 scripts/k8s-check.py --overlay minikube

For each overlay under kustomize/overlays/ it runs `kubectl kustomize` (or `kustomize build`),
validates every object against the Kubernetes JSON schemas shipped with kubernetes-validate
(strict: unknown fields are errors), then checks the rules of docs/kubernetes.md: resources,
probes, security context, no secrets in ConfigMaps, NetworkPolicy coverage and flows, Services,
Ingress routes, namespace, and the settings that differ per overlay.

Prints one line per check, `ok <overlay>: <check>` or `FAIL <overlay>: <check>: <problems>`,
then `k8s: N passed, M failed`; exits 1 when anything failed, 2 when it could not run.
Needs Python 3.11+, kubectl (or kustomize) and `pip install PyYAML kubernetes-validate`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

try:
    import yaml
    import kubernetes_validate
except ImportError as err:  # pragma: no cover - environment problem, not a check failure
    print(f"k8s-check: {err.name} is missing: pip install PyYAML kubernetes-validate", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent
KUSTOMIZE_DIR = ROOT / "kustomize"
KUBERNETES_VERSION = "1.30"
NAMESPACE = "banking-app"

Obj = dict[str, Any]

# ------------------------------------------------------------------------------------------
# What each overlay must produce
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    host: str
    tls_secret: str | None
    # None: the Deployments must carry no `replicas` (an HPA owns the count).
    app_replicas: int | None
    frontend_service: str
    backend_config: dict[str, str]
    frontend_config: dict[str, str]
    # Secrets the overlay generates, with the keys each must hold.
    generated_secrets: dict[str, set[str]]
    # Secrets referenced but expected to exist in the cluster already.
    external_secrets: set[str]
    image_tag: str | None = None
    pull_policy: str | None = None
    autoscaling: bool = False
    # topologySpreadConstraints over nodes on the api and the web
    spread: bool = False


# The seed's names: role banking_user, database banking_db.
DB_USER, DB_NAME = "banking_user", "banking_db"
METRICS_PORT = 9090

COMMON_BACKEND = {
    "DATABASE_URL": f"postgres://{DB_USER}@postgres:5432/{DB_NAME}",
    "REDIS_URL": "redis://redis:6379",
    "API_BIND": "0.0.0.0:8000",
    "METRICS_BIND": f"0.0.0.0:{METRICS_PORT}",
}
COMMON_FRONTEND = {"METRICS_BIND": f"0.0.0.0:{METRICS_PORT}"}

SECRET_KEYS = {
    "backend-secrets": {"DATABASE_PASSWORD", "BISCUIT_PRIVATE_KEY"},
    "postgres-credentials": {"password"},
    "redis-credentials": {"password"},
}

OVERLAYS: dict[str, Expect] = {
    "minikube": Expect(
        host="banking.local",
        tls_secret=None,
        app_replicas=2,
        frontend_service="NodePort",
        backend_config=COMMON_BACKEND
        | {"ENVIRONMENT": "development", "GRAPHIQL": "true", "INTROSPECTION": "true", "LOG_FORMAT": "pretty",
           "TRUSTED_PROXIES": "10.244.0.0/16"},
        frontend_config=COMMON_FRONTEND
        | {"ENVIRONMENT": "development", "COOKIE_SECURE": "false", "LOG_FORMAT": "pretty"},
        generated_secrets=SECRET_KEYS,
        external_secrets=set(),
        image_tag="dev",
        # The :dev images exist only in minikube's runtime: never a registry pull.
        pull_policy="Never",
    ),
    "production": Expect(
        host="banking.example.com",
        tls_secret="banking-tls",
        app_replicas=None,
        frontend_service="ClusterIP",
        backend_config=COMMON_BACKEND
        | {"ENVIRONMENT": "production", "GRAPHIQL": "false", "INTROSPECTION": "false", "LOG_FORMAT": "json"},
        frontend_config=COMMON_FRONTEND
        | {"ENVIRONMENT": "production", "COOKIE_SECURE": "true", "LOG_FORMAT": "json"},
        generated_secrets={},
        external_secrets=set(SECRET_KEYS),
        autoscaling=True,
        spread=True,
    ),
}

# Service name -> (type, port, container port it must reach); None: per overlay (Expect).
# One port each: the metrics port is never behind a Service.
SERVICES = {
    "banking-backend": ("ClusterIP", 8000, 8000),
    "banking-frontend": (None, 80, 8080),
    "postgres": ("ClusterIP", 5432, 5432),
    "redis": ("ClusterIP", 6379, 6379),
}

# Deployment -> (container, {probe kind: path}, named port "http" number)
APP_PROBES = {
    # Readiness /ready (this pod can serve), never /health (shared dependencies): a Redis outage
    # must not take every api pod out of the Service at once.
    "banking-backend": ("api", {"startupProbe": "/ping", "readinessProbe": "/ready", "livenessProbe": "/ping"}, 8000),
    "banking-frontend": ("web", {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}, 8080),
}

# (path, service, port) in order of the Ingress rule
INGRESS_ROUTES = [("/graphql", "banking-backend", 8000), ("/api", "banking-backend", 8000), ("/", "banking-frontend", 80)]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                  "IngressClass", "CustomResourceDefinition", "PriorityClass"}
RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/component")
COMMON_LABELS = {"app.kubernetes.io/part-of": "banking", "app.kubernetes.io/managed-by": "kustomize"}

# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def render(overlay: Path) -> list[Obj]:
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(overlay)]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", str(overlay)]
    else:
        raise RuntimeError("neither kubectl nor kustomize is on PATH")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"{' '.join(cmd)} exited {done.returncode}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def kn(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def of_kind(objs: Iterable[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") == kind]


def find(objs: Iterable[Obj], kind: str, name: str) -> Obj | None:
    return next((o for o in objs if o.get("kind") == kind and o["metadata"].get("name") == name), None)


def generated(objs: Iterable[Obj], kind: str, name: str) -> Obj | None:
    """A generated object: `name` or `name-<hash>`."""
    pattern = re.compile(rf"^{re.escape(name)}(-[a-z0-9]{{10}})?$")
    return next((o for o in objs if o.get("kind") == kind and pattern.match(o["metadata"].get("name", ""))), None)


def base_name(name: str) -> str:
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def pod_spec(workload: Obj) -> Obj:
    spec = workload.get("spec", {})
    if workload["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec.get("template", {}).get("spec", {})


def pod_labels(workload: Obj) -> dict[str, str]:
    return workload.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}


def workloads(objs: Iterable[Obj]) -> list[Obj]:
    return [o for o in objs if o.get("kind") in WORKLOAD_KINDS | {"CronJob"}]


def all_containers(spec: Obj) -> list[tuple[str, Obj]]:
    return [("initContainer", c) for c in spec.get("initContainers", []) or []] + [
        ("container", c) for c in spec.get("containers", []) or []
    ]


def matches(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector against labels; {} matches everything, None matches nothing."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def container_port(workload: Obj, port: int | str) -> int | None:
    """The container port number a Service targetPort / probe port refers to."""
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    for _, c in all_containers(pod_spec(workload)):
        for p in c.get("ports", []) or []:
            if p.get("name") == port:
                return p.get("containerPort")
    return None


# ------------------------------------------------------------------------------------------
# Checks: each returns a list of problems (empty: passed) and a short note
# ------------------------------------------------------------------------------------------

Problems = list[str]


def check_schema(objs: list[Obj], version: str) -> tuple[Problems, str]:
    problems = []
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            where = ".".join(str(p) for p in err.path) or "(root)"
            problems.append(f"{kn(obj)} {where}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            problems.append(f"{kn(obj)}: {err.message}")
    return problems, f"{len(objs)} objects valid against Kubernetes {version} schemas, strict"


def check_namespace(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    if not find(objs, "Namespace", NAMESPACE):
        problems.append(f"no Namespace {NAMESPACE}")
    for obj in objs:
        if obj["kind"] in CLUSTER_SCOPED:
            continue
        ns = obj["metadata"].get("namespace")
        if ns != NAMESPACE:
            problems.append(f"{kn(obj)} is in namespace {ns!r}")
    return problems


def check_labels(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    for obj in objs:
        labels = obj["metadata"].get("labels") or {}
        for key, value in COMMON_LABELS.items():
            if labels.get(key) != value:
                problems.append(f"{kn(obj)} lacks {key}={value}")
        if obj["kind"] in WORKLOAD_KINDS | {"Service"}:
            for key in RECOMMENDED_LABELS:
                if key not in labels:
                    problems.append(f"{kn(obj)} lacks {key}")
        if obj["kind"] in WORKLOAD_KINDS:
            tpl = pod_labels(obj)
            for key in (*RECOMMENDED_LABELS, *COMMON_LABELS):
                if key not in tpl:
                    problems.append(f"{kn(obj)} pod template lacks {key}")
            if not matches(obj["spec"].get("selector"), tpl):
                problems.append(f"{kn(obj)} selector does not match its pod template")
    return problems


def check_resources(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    for w in workloads(objs):
        for what, c in all_containers(pod_spec(w)):
            res = c.get("resources") or {}
            for bound in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(bound) or {}):
                        problems.append(f"{kn(w)} {what} {c['name']}: no {bound}.{r}")
    return problems


def check_security(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    for w in workloads(objs):
        spec = pod_spec(w)
        pod_sc = spec.get("securityContext") or {}
        if pod_sc.get("runAsUser") == 0:
            problems.append(f"{kn(w)} runs as uid 0")
        for what, c in all_containers(spec):
            sc = c.get("securityContext") or {}
            who = f"{kn(w)} {what} {c['name']}"
            if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot", False)):
                problems.append(f"{who}: runAsNonRoot is not true")
            if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
                problems.append(f"{who}: runAsUser 0")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{who}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{who}: allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                problems.append(f"{who}: privileged")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{who}: capabilities do not drop ALL")
            if (sc.get("capabilities") or {}).get("add"):
                problems.append(f"{who}: adds capabilities")
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{who}: no RuntimeDefault seccomp profile")
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{kn(w)} shares a host namespace")
    return problems


def check_probes(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    for name, (container, probes, port) in APP_PROBES.items():
        w = find(objs, "Deployment", name)
        if not w:
            problems.append(f"no Deployment {name}")
            continue
        c = next((c for c in pod_spec(w).get("containers", []) if c["name"] == container), None)
        if not c:
            problems.append(f"Deployment/{name} has no container {container}")
            continue
        for kind, path in probes.items():
            http = (c.get(kind) or {}).get("httpGet")
            if not http:
                problems.append(f"{name}: no httpGet {kind}")
                continue
            if http.get("path") != path:
                problems.append(f"{name}: {kind} on {http.get('path')}, expected {path}")
            if container_port(w, http.get("port")) != port:
                problems.append(f"{name}: {kind} port {http.get('port')} is not {port}")
        if not any(p.get("name") == "http" and p.get("containerPort") == port for p in c.get("ports", [])):
            problems.append(f"{name}: no containerPort {port} named http")
    # Stateful services: exec probes
    for kind, name, command in (("StatefulSet", "postgres", "pg_isready"), ("Deployment", "redis", "redis-cli")):
        w = find(objs, kind, name)
        if not w:
            problems.append(f"no {kind} {name}")
            continue
        c = pod_spec(w)["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            cmd = " ".join(((c.get(probe) or {}).get("exec") or {}).get("command") or [])
            if command not in cmd:
                problems.append(f"{name}: {probe} does not run {command}")
    return problems


def check_migrations(objs: list[Obj], _: Expect) -> Problems:
    w = find(objs, "Deployment", "banking-backend")
    if not w:
        return ["no Deployment banking-backend"]
    spec = pod_spec(w)
    init = next((c for c in spec.get("initContainers", []) or [] if c["name"] == "migrate"), None)
    api = next((c for c in spec.get("containers", []) if c["name"] == "api"), None)
    if not init or not api:
        return ["banking-backend needs an initContainer `migrate` and a container `api`"]
    problems = []
    if init.get("args") != ["migrate"]:
        problems.append(f"migrate args are {init.get('args')}, expected ['migrate']")
    for key in ("image", "envFrom", "env", "securityContext", "resources"):
        if init.get(key) != api.get(key):
            problems.append(f"migrate and api differ in {key}")
    return problems


def check_metrics(objs: list[Obj], _: Expect) -> Problems:
    """Metrics on a port of their own (9090, named `metrics`), announced to Prometheus, behind no Service."""
    problems = []
    for name, (container, _, _) in APP_PROBES.items():
        w = find(objs, "Deployment", name)
        if not w:
            problems.append(f"no Deployment {name}")
            continue
        c = next((c for c in pod_spec(w).get("containers", []) if c["name"] == container), {})
        if not any(p.get("name") == "metrics" and p.get("containerPort") == METRICS_PORT for p in c.get("ports", [])):
            problems.append(f"{name}: no containerPort {METRICS_PORT} named metrics")
        notes = w["spec"]["template"].get("metadata", {}).get("annotations") or {}
        want = {"prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT), "prometheus.io/path": "/metrics"}
        for key, value in want.items():
            if notes.get(key) != value:
                problems.append(f"{name}: annotation {key}={notes.get(key)!r}, expected {value!r}")
        for svc in of_kind(objs, "Service"):
            selector = svc["spec"].get("selector")
            if selector and matches({"matchLabels": selector}, pod_labels(w)):
                for port in svc["spec"].get("ports") or []:
                    if container_port(w, port.get("targetPort", port.get("port"))) == METRICS_PORT:
                        problems.append(f"Service/{svc['metadata']['name']} exposes {name}'s metrics port")
    return problems


def check_spread(objs: list[Obj], expect: Expect) -> Problems:
    """Production: the api and the web spread over nodes for real (not only a comment)."""
    problems = []
    for name in APP_PROBES:
        w = find(objs, "Deployment", name)
        if not w:
            problems.append(f"no Deployment {name}")
            continue
        constraints = pod_spec(w).get("topologySpreadConstraints") or []
        own = [t for t in constraints if matches(t.get("labelSelector"), pod_labels(w))]
        if not expect.spread:
            if constraints:
                problems.append(f"{name}: topology spread where none is expected")
            continue
        if len(own) != len(constraints):
            problems.append(f"{name}: a topology spread constraint does not select its own pods")
        by_node = [t for t in own if t.get("topologyKey") == "kubernetes.io/hostname"]
        if not by_node or by_node[0].get("whenUnsatisfiable") != "DoNotSchedule" or by_node[0].get("maxSkew") != 1:
            problems.append(f"{name}: no hard (DoNotSchedule, maxSkew 1) spread over kubernetes.io/hostname")
        if not any(t.get("topologyKey") == "topology.kubernetes.io/zone" for t in own):
            problems.append(f"{name}: no spread over topology.kubernetes.io/zone")
    return problems


SECRET_KEY_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|KEY|TOKEN|CREDENTIAL", re.I)
SECRET_VALUE = [
    (re.compile(r"://[^/@:\s]+:[^/@\s]+@"), "a URL with a password"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32,}(?![0-9a-fA-F])"), "a long hex string (a key?)"),
    (re.compile(r"^\s*(requirepass|masterauth)\s+\S", re.M), "a Redis password"),
]


def check_configmaps(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    for cm in of_kind(objs, "ConfigMap"):
        for key, value in (cm.get("data") or {}).items():
            if SECRET_KEY_NAME.search(key):
                problems.append(f"{kn(cm)} key {key} looks like a secret: use a Secret")
            for pattern, what in SECRET_VALUE:
                if pattern.search(str(value)):
                    problems.append(f"{kn(cm)} {key} holds {what}")
        if cm.get("binaryData"):
            problems.append(f"{kn(cm)} has binaryData")
    return problems


def check_references(objs: list[Obj], expect: Expect) -> Problems:
    """Every ConfigMap, Secret and PVC a pod names exists in the output (or is an expected external Secret)."""
    problems = []
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    for w in workloads(objs):
        spec = pod_spec(w)
        refs: list[tuple[str, str]] = []
        for _, c in all_containers(spec):
            for src in c.get("envFrom", []) or []:
                if "configMapRef" in src:
                    refs.append(("ConfigMap", src["configMapRef"]["name"]))
                if "secretRef" in src:
                    refs.append(("Secret", src["secretRef"]["name"]))
            for env in c.get("env", []) or []:
                vf = env.get("valueFrom") or {}
                if "configMapKeyRef" in vf:
                    refs.append(("ConfigMap", vf["configMapKeyRef"]["name"]))
                if "secretKeyRef" in vf:
                    refs.append(("Secret", vf["secretKeyRef"]["name"]))
        for vol in spec.get("volumes", []) or []:
            if "configMap" in vol:
                refs.append(("ConfigMap", vol["configMap"]["name"]))
            if "secret" in vol:
                refs.append(("Secret", vol["secret"]["secretName"]))
            if "persistentVolumeClaim" in vol:
                refs.append(("PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"]))
        for kind, name in refs:
            if (kind, name) in names:
                continue
            if kind == "Secret" and name in expect.external_secrets:
                continue
            problems.append(f"{kn(w)} refers to missing {kind}/{name}")
    return problems


# --- NetworkPolicy -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, int, str], ...] = ()  # (name, number, protocol)
    # Labels of the pod's namespace beyond kubernetes.io/metadata.name (set by the API server).
    namespace_extra_labels: tuple[tuple[str, str], ...] = ()

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


def namespace_labels(pod: Pod) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": pod.namespace, **dict(pod.namespace_extra_labels)}


def selecting(policies: list[Obj], pod: Pod) -> list[Obj]:
    return [p for p in policies
            if p["metadata"].get("namespace") == pod.namespace and matches(p["spec"].get("podSelector"), pod.label_map)]


def policy_types(policy: Obj) -> list[str]:
    types = policy["spec"].get("policyTypes")
    if types:
        return types
    return ["Ingress"] + (["Egress"] if "egress" in policy["spec"] else [])


def peer_matches(peer: Obj, policy_ns: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return False  # pods are not addressed by ipBlock here
    ns_sel = peer.get("namespaceSelector")
    pod_sel = peer.get("podSelector")
    if ns_sel is None and pod.namespace != policy_ns:
        return False
    if ns_sel is not None and not matches(ns_sel, namespace_labels(pod)):
        return False
    return pod_sel is None or matches(pod_sel, pod.label_map)


def port_matches(rule_ports: list[Obj] | None, dst: Pod, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for rp in rule_ports:
        if rp.get("protocol", "TCP") != protocol:
            continue
        p = rp.get("port")
        if p is None:
            return True
        if isinstance(p, str) and not p.isdigit():
            if any(n == p and num == port and proto == protocol for n, num, proto in dst.ports):
                return True
            continue
        lo = int(p)
        hi = rp.get("endPort", lo)
        if lo <= port <= hi:
            return True
    return False


def direction_allows(policies: list[Obj], subject: Pod, peer: Pod, direction: str, port: int,
                     protocol: str, port_owner: Pod) -> bool:
    """Whether `subject`'s policies let traffic to/from `peer` through in `direction`."""
    relevant = [p for p in selecting(policies, subject) if direction in policy_types(p)]
    if not relevant:
        return True  # not isolated in this direction
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in relevant:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(peer_matches(pr, policy["metadata"]["namespace"], peer) for pr in peers)
            if peer_ok and port_matches(rule.get("ports"), port_owner, port, protocol):
                return True
    return False


def flow_allowed(policies: list[Obj], src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
    return (direction_allows(policies, src, dst, "Egress", port, protocol, dst)
            and direction_allows(policies, dst, src, "Ingress", port, protocol, dst))


def pods_of(objs: list[Obj]) -> dict[str, Pod]:
    pods = {}
    for w in workloads(objs):
        ports = tuple((p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
                      for _, c in all_containers(pod_spec(w)) for p in c.get("ports", []) or [])
        pods[w["metadata"]["name"]] = Pod(w["metadata"]["name"], w["metadata"].get("namespace", ""),
                                          tuple(sorted(pod_labels(w).items())), ports)
    return pods


# The label a namespace needs for its Prometheus to scrape the metrics ports
# (components/network-policies/prometheus.yaml, docs/kubernetes.md).
SCRAPER_NAMESPACE_LABEL = ("banking/metrics-scraper", "true")


def check_network_policies(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    policies = of_kind(objs, "NetworkPolicy")
    pods = pods_of(objs)
    deny = [p for p in policies if p["spec"].get("podSelector") == {}
            and set(policy_types(p)) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    if not deny:
        problems.append("no default-deny policy (podSelector {}, Ingress and Egress, no rules)")
    for name, pod in pods.items():
        if not selecting(policies, pod):
            problems.append(f"pod {name} is selected by no NetworkPolicy")

    nginx = Pod("ingress-nginx-controller", "ingress-nginx", (("app.kubernetes.io/name", "ingress-nginx"),))
    dns = Pod("coredns", "kube-system", (("k8s-app", "kube-dns"),),
              (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")))
    stranger = Pod("stranger", "default", (("app", "stranger"),), (("https", 443, "TCP"),))
    prometheus_labels = (("app.kubernetes.io/name", "prometheus"),)
    # The Prometheus the policy admits, and three that must stay out: in a namespace without
    # the label, another pod in the labelled namespace, and a pod of the app's own namespace
    # wearing Prometheus's label.
    prometheus = Pod("prometheus", "monitoring", prometheus_labels, (("web", 9090, "TCP"),),
                     (SCRAPER_NAMESPACE_LABEL,))
    unlabelled_prometheus = Pod("prometheus-elsewhere", "other-monitoring", prometheus_labels)
    grafana = Pod("grafana", "monitoring", (("app.kubernetes.io/name", "grafana"),), (), (SCRAPER_NAMESPACE_LABEL,))
    impostor = Pod("impostor", NAMESPACE, prometheus_labels)
    missing = {"banking-backend", "banking-frontend", "postgres", "redis"} - pods.keys()
    if missing:
        return problems + [f"missing workloads {sorted(missing)}"]

    # Each side on its own, so that one permissive policy is caught even where the other
    # side would still block the traffic.
    accepts = {  # (destination, port) -> the only sources its ingress rules let in
        ("banking-frontend", 8080): {"ingress-nginx-controller"},
        ("banking-backend", 8000): {"banking-frontend", "ingress-nginx-controller"},
        ("banking-frontend", METRICS_PORT): {"prometheus"},
        ("banking-backend", METRICS_PORT): {"prometheus"},
        ("postgres", 5432): {"banking-backend"},
        ("redis", 6379): {"banking-backend"},
    }
    reaches = {  # source -> the only (destination, port) its egress rules let out (DNS aside)
        "banking-frontend": {("banking-backend", 8000)},
        "banking-backend": {("postgres", 5432), ("redis", 6379)},
        "postgres": set(),
        "redis": set(),
    }
    outsiders = [nginx, stranger, prometheus, unlabelled_prometheus, grafana, impostor]
    everyone = {p.name: p for p in [*pods.values(), *outsiders]}
    for (dst_name, port), allowed in accepts.items():
        dst = pods[dst_name]
        let_in = {src.name for src in everyone.values() if src is not dst and direction_allows(
            policies, dst, src, "Ingress", port, "TCP", dst)}
        if let_in != allowed:
            problems.append(f"{dst_name}:{port} accepts {sorted(let_in)}, expected {sorted(allowed)}")
    targets = list(accepts) + [("stranger", 443), ("ingress-nginx-controller", 80), ("prometheus", 9090)]
    for src_name, allowed in reaches.items():
        src = pods[src_name]
        let_out = {(dst, port) for dst, port in targets if dst != src_name and direction_allows(
            policies, src, everyone[dst], "Egress", port, "TCP", everyone[dst])}
        if let_out != allowed:
            problems.append(f"{src_name} may connect to {sorted(let_out)}, expected {sorted(allowed)}")
    # Both sides together: every designed flow goes through.
    flows = [(src, dst, port) for (dst, port), srcs in accepts.items() for src in srcs]
    for src_name, dst_name, port in flows:
        if not flow_allowed(policies, everyone[src_name], pods[dst_name], port):
            problems.append(f"{src_name} -> {dst_name}:{port} is blocked")
    for pod in pods.values():
        for proto in ("UDP", "TCP"):
            if not flow_allowed(policies, pod, dns, 53, proto):
                problems.append(f"{pod.name} cannot reach kube-dns on {proto}/53")
    return problems


def check_services(objs: list[Obj], expect: Expect) -> Problems:
    problems = []
    for name, (svc_type, port, target) in SERVICES.items():
        svc_type = svc_type or expect.frontend_service
        svc = find(objs, "Service", name)
        if not svc:
            problems.append(f"no Service {name}")
            continue
        spec = svc["spec"]
        if spec.get("type", "ClusterIP") != svc_type:
            problems.append(f"Service/{name} is {spec.get('type', 'ClusterIP')}, expected {svc_type}")
        ports = spec.get("ports") or []
        if len(ports) != 1 or ports[0].get("port") != port:
            problems.append(f"Service/{name} ports {[p.get('port') for p in ports]}, expected [{port}]")
            continue
        selector = spec.get("selector")
        backends = [w for w in workloads(objs) if selector and matches({"matchLabels": selector}, pod_labels(w))]
        if len(backends) != 1:
            problems.append(f"Service/{name} selects {len(backends)} workloads, expected 1")
            continue
        reached = container_port(backends[0], ports[0].get("targetPort", port))
        if reached != target:
            problems.append(f"Service/{name} targetPort {ports[0].get('targetPort')} reaches {reached}, expected {target}")
    return problems


def check_ingress(objs: list[Obj], expect: Expect) -> Problems:
    ing = find(objs, "Ingress", "banking-ingress")
    if not ing:
        return ["no Ingress banking-ingress"]
    problems = []
    spec = ing["spec"]
    if spec.get("ingressClassName") != "nginx":
        problems.append(f"ingressClassName is {spec.get('ingressClassName')!r}, expected 'nginx'")
    annotations = ing["metadata"].get("annotations") or {}
    if annotations.get("nginx.ingress.kubernetes.io/proxy-body-size") != "1m":
        problems.append("annotation nginx.ingress.kubernetes.io/proxy-body-size is not \"1m\"")
    rules = spec.get("rules") or []
    if len(rules) != 1 or rules[0].get("host") != expect.host:
        problems.append(f"rules hosts {[r.get('host') for r in rules]}, expected [{expect.host!r}]")
    if rules:
        got = [(p.get("path"), p.get("pathType"), p["backend"]["service"]["name"],
                p["backend"]["service"]["port"].get("number"))
               for p in (rules[0].get("http") or {}).get("paths") or []]
        want = [(path, "Prefix", svc, port) for path, svc, port in INGRESS_ROUTES]
        if sorted(got) != sorted(want):
            problems.append(f"routes {got}, expected {want}")
        for _, _, svc, port in got:
            s = find(objs, "Service", svc)
            if not s or port not in [p.get("port") for p in s["spec"].get("ports", [])]:
                problems.append(f"route to {svc}:{port}: no such Service port")
    tls = spec.get("tls") or []
    if expect.tls_secret:
        if not any(t.get("secretName") == expect.tls_secret and expect.host in (t.get("hosts") or []) for t in tls):
            problems.append(f"no TLS for {expect.host} from Secret {expect.tls_secret}")
    elif tls:
        problems.append("TLS configured where none is expected")
    return problems


def check_settings(objs: list[Obj], expect: Expect) -> Problems:
    """The values that differ per overlay: config, replicas, images, secrets, autoscaling."""
    problems = []
    for name, want in (("backend-config", expect.backend_config), ("frontend-config", expect.frontend_config)):
        cm = generated(objs, "ConfigMap", name)
        if not cm:
            problems.append(f"no ConfigMap {name}")
            continue
        for key, value in want.items():
            if (cm.get("data") or {}).get(key) != value:
                problems.append(f"{name} {key}={(cm.get('data') or {}).get(key)!r}, expected {value!r}")
    fe = find(objs, "Deployment", "banking-frontend")
    if fe:
        env = {e["name"]: e.get("value") for c in pod_spec(fe)["containers"] for e in c.get("env", []) or []}
        if env.get("API_URL") != "http://banking-backend:8000/graphql":
            problems.append(f"banking-frontend API_URL is {env.get('API_URL')!r}")
        if env.get("WEB_BIND") != "0.0.0.0:8080":
            problems.append(f"banking-frontend WEB_BIND is {env.get('WEB_BIND')!r}")
    for name, image in (("banking-backend", "banking-api"), ("banking-frontend", "banking-web")):
        w = find(objs, "Deployment", name)
        if not w:
            problems.append(f"no Deployment {name}")
            continue
        if w["spec"].get("replicas") != expect.app_replicas:
            if expect.app_replicas is None:
                problems.append(f"{name} sets replicas {w['spec']['replicas']} beside its HPA: every apply would reset it")
            else:
                problems.append(f"{name} replicas {w['spec'].get('replicas')}, expected {expect.app_replicas}")
        for what, c in all_containers(pod_spec(w)):
            ref = c.get("image", "")
            repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
            if repo.rsplit("/", 1)[-1] != image:
                problems.append(f"{name} {what} {c['name']} image {ref}, expected {image}")
            if not tag or tag == "latest":
                problems.append(f"{name} {what} {c['name']} image {ref} has no fixed tag")
            if expect.image_tag and tag != expect.image_tag:
                problems.append(f"{name} {what} {c['name']} image {ref}, expected tag {expect.image_tag}")
            if expect.pull_policy and c.get("imagePullPolicy") != expect.pull_policy:
                problems.append(f"{name} {what} {c['name']} imagePullPolicy {c.get('imagePullPolicy')}")
    secrets = of_kind(objs, "Secret")
    for name, keys in expect.generated_secrets.items():
        s = generated(objs, "Secret", name)
        if not s:
            problems.append(f"no generated Secret {name}")
            continue
        missing = keys - set(s.get("data") or {}) - set(s.get("stringData") or {})
        if missing:
            problems.append(f"Secret {name} lacks {sorted(missing)}")
    if not expect.generated_secrets and secrets:
        problems.append(f"Secrets generated where none should be: {[kn(s) for s in secrets]}")
    hpas, pdbs = of_kind(objs, "HorizontalPodAutoscaler"), of_kind(objs, "PodDisruptionBudget")
    if expect.autoscaling:
        for name in ("banking-backend", "banking-frontend"):
            hpa = next((h for h in hpas if h["spec"]["scaleTargetRef"].get("name") == name), None)
            if not hpa or hpa["apiVersion"] != "autoscaling/v2":
                problems.append(f"no autoscaling/v2 HorizontalPodAutoscaler for {name}")
            else:
                s = hpa["spec"]
                cpu = [m for m in s.get("metrics", []) if m.get("type") == "Resource"
                       and m["resource"]["name"] == "cpu"
                       and m["resource"]["target"].get("averageUtilization") == 70]
                if (s.get("minReplicas"), s.get("maxReplicas")) != (3, 10) or not cpu:
                    problems.append(f"HPA for {name}: expected CPU 70%, min 3, max 10")
            w = find(objs, "Deployment", name)
            pdb = next((p for p in pdbs if w and matches(p["spec"].get("selector"), pod_labels(w))), None)
            if not pdb or pdb["spec"].get("minAvailable") != 2:
                problems.append(f"no PodDisruptionBudget minAvailable 2 for {name}")
    elif hpas or pdbs:
        problems.append("HPA/PDB present where none is expected")
    return problems


def check_stateful(objs: list[Obj], _: Expect) -> Problems:
    problems = []
    pg = find(objs, "StatefulSet", "postgres")
    if not pg:
        problems.append("no StatefulSet postgres")
    else:
        spec = pg["spec"]
        c = pod_spec(pg)["containers"][0]
        env = {e["name"]: e for e in c.get("env", [])}
        if spec.get("serviceName") != "postgres" or spec.get("replicas") != 1:
            problems.append("postgres: serviceName postgres and 1 replica expected")
        if c.get("image") != "postgres:15-alpine":
            problems.append(f"postgres image {c.get('image')}")
        if (env.get("POSTGRES_DB", {}).get("value"), env.get("POSTGRES_USER", {}).get("value")) != (DB_NAME, DB_USER):
            problems.append(f"postgres: POSTGRES_DB={DB_NAME}, POSTGRES_USER={DB_USER} expected")
        for probe in ("readinessProbe", "livenessProbe"):
            cmd = ((c.get(probe) or {}).get("exec") or {}).get("command") or []
            if cmd != ["pg_isready", "-U", DB_USER, "-d", DB_NAME]:
                problems.append(f"postgres: {probe} runs {cmd}, expected pg_isready -U {DB_USER} -d {DB_NAME}")
        ref = (env.get("POSTGRES_PASSWORD", {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        if base_name(ref.get("name", "")) != "postgres-credentials" or ref.get("key") != "password":
            problems.append("postgres: POSTGRES_PASSWORD must come from Secret postgres-credentials key password")
        claims = spec.get("volumeClaimTemplates") or []
        if not any(t["spec"].get("accessModes") == ["ReadWriteOnce"]
                   and t["spec"]["resources"]["requests"].get("storage") == "1Gi" for t in claims):
            problems.append("postgres: volumeClaimTemplate 1Gi ReadWriteOnce expected")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        pgdata = env.get("PGDATA", {}).get("value", "")
        if not any(pgdata.startswith(m) for m in mounts):
            problems.append(f"postgres: PGDATA {pgdata!r} is not under a mounted volume")
    rd = find(objs, "Deployment", "redis") or find(objs, "StatefulSet", "redis")
    if not rd:
        problems.append("no redis workload")
    else:
        c = pod_spec(rd)["containers"][0]
        if c.get("image") != "redis:7-alpine":
            problems.append(f"redis image {c.get('image')}")
        # requirepass from the Secret, and the api given the same Secret key.
        cmd = (c.get("command") or []) + (c.get("args") or [])
        if "--requirepass" not in cmd or cmd[cmd.index("--requirepass") + 1:][:1] != ["$(REDIS_PASSWORD)"]:
            problems.append(f"redis: command {cmd} does not set --requirepass $(REDIS_PASSWORD)")
        api = find(objs, "Deployment", "banking-backend")
        for who, container in (("redis", c), ("banking-backend", pod_spec(api)["containers"][0] if api else {})):
            env = {e["name"]: e for e in container.get("env", []) or []}
            ref = (env.get("REDIS_PASSWORD", {}).get("valueFrom") or {}).get("secretKeyRef") or {}
            if base_name(ref.get("name", "")) != "redis-credentials" or ref.get("key") != "password":
                problems.append(f"{who}: REDIS_PASSWORD must come from Secret redis-credentials key password")
        for probe in ("readinessProbe", "livenessProbe"):
            cmd = " ".join(((c.get(probe) or {}).get("exec") or {}).get("command") or [])
            if "PONG" not in cmd:
                problems.append(f"redis: {probe} `{cmd}` does not look for PONG (redis-cli exits 0 on NOAUTH)")
        env = {e["name"]: e for e in c.get("env", []) or []}
        if "REDISCLI_AUTH" not in env:
            problems.append("redis: no REDISCLI_AUTH for the probes' redis-cli")
        cm = generated(objs, "ConfigMap", "redis-config")
        conf = "\n".join((cm or {}).get("data", {}).values())
        for line in ("maxmemory 256mb", "maxmemory-policy allkeys-lru", "appendonly yes", "dir /data"):
            if not re.search(rf"^{re.escape(line)}\s*$", conf, re.M):
                problems.append(f"redis-config lacks `{line}`")
        vols = {v["name"]: v for v in pod_spec(rd).get("volumes", [])}
        data = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/data"]
        if not data or (vols.get(data[0]["name"], {}).get("persistentVolumeClaim") or {}).get("claimName") != "redis-data":
            problems.append("redis: PVC redis-data must be mounted at /data")
        if not find(objs, "PersistentVolumeClaim", "redis-data"):
            problems.append("no PersistentVolumeClaim redis-data")
    return problems


CHECKS: list[tuple[str, Callable[[list[Obj], Expect], Problems]]] = [
    ("namespace banking-app everywhere", check_namespace),
    ("recommended labels", check_labels),
    ("requests and limits on every container", check_resources),
    ("restricted security context on every container", check_security),
    ("probes", check_probes),
    ("metrics on their own port, behind no Service", check_metrics),
    ("topology spread", check_spread),
    ("migrations in the api's initContainer", check_migrations),
    ("no secrets in ConfigMaps", check_configmaps),
    ("referenced ConfigMaps, Secrets and PVCs exist", check_references),
    ("NetworkPolicies select every pod and allow only the designed flows", check_network_policies),
    ("Services", check_services),
    ("Ingress routes", check_ingress),
    ("postgres and redis", check_stateful),
    ("overlay settings", check_settings),
]

# ------------------------------------------------------------------------------------------


@dataclass
class Report:
    passed: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    def record(self, label: str, problems: Problems, note: str = "") -> None:
        if problems:
            self.failed += 1
            shown = "; ".join(problems[:8]) + (f"; … {len(problems) - 8} more" if len(problems) > 8 else "")
            print(f"FAIL {label}: {shown}")
        else:
            self.passed += 1
            print(f"ok {label}" + (f" ({note})" if note else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--validate-only", action="store_true",
                        help="render and validate against the schemas; skip the policy checks")
    parser.add_argument("--overlay", action="append", choices=sorted(OVERLAYS),
                        help="check only this overlay (repeatable); default: all")
    parser.add_argument("--kubernetes-version", default=KUBERNETES_VERSION,
                        help=f"schema version to validate against (default {KUBERNETES_VERSION})")
    args = parser.parse_args(argv)

    report = Report()
    for name in args.overlay or list(OVERLAYS):
        expect = OVERLAYS[name]
        try:
            objs = render(KUSTOMIZE_DIR / "overlays" / name)
        except (RuntimeError, yaml.YAMLError) as err:
            report.record(f"{name}: render", [str(err).replace("\n", " ")])
            continue
        report.record(f"{name}: render", [], f"{len(objs)} objects")
        problems, note = check_schema(objs, args.kubernetes_version)
        report.record(f"{name}: schema", problems, note)
        if args.validate_only:
            continue
        for label, check in CHECKS:
            try:
                problems = check(objs, expect)
            except (KeyError, TypeError, IndexError, AttributeError) as err:
                problems = [f"malformed object ({type(err).__name__}: {err})"]
            report.record(f"{name}: {label}", problems)
    print(f"k8s: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
