#!/usr/bin/env python3
"""Render the Kustomize overlays and check what the cluster would get.

    python3 scripts/k8s-check.py                  # every overlay, every check
    python3 scripts/k8s-check.py --validate-only  # render + schema validation only
    python3 scripts/k8s-check.py --overlay minikube

For each overlay under kustomize/overlays/ (minikube, minikube-gateway, production) it runs
`kubectl kustomize` (or `kustomize build`), validates every built-in object against the
Kubernetes JSON schemas shipped with kubernetes-validate and every custom resource (Gateway API,
CloudNativePG) against the openAPIV3Schema of its CRD in ../shared/crds (strict both ways:
unknown fields are errors), then checks the rules of docs/kubernetes.md: resources, probes,
security context, no secrets in ConfigMaps, NetworkPolicy coverage and flows, Services, the
Ingress or the Gateway and its routes, PostgreSQL (a StatefulSet or CloudNativePG), Redis
(single or with Sentinel), namespace, and the settings that differ per overlay.

Prints one line per check, `ok <overlay>: <check>` or `FAIL <overlay>: <check>: <problems>`,
then `k8s: N passed, M failed`; exits 1 when anything failed, 2 when it could not run.
Without ../shared/crds (a checkout without the shared directory) the CRD validation prints
`skipped: ../shared/crds not found` and counts neither way.
Needs Python 3.11+, kubectl (or kustomize) and `pip install PyYAML kubernetes-validate`
(which brings jsonschema, used for the CRD schemas).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from support import ROOT, Checks

try:
    import yaml
    import kubernetes_validate
    import jsonschema  # a dependency of kubernetes-validate
except ImportError as err:  # pragma: no cover - environment problem, not a check failure
    print(f"k8s-check: {err.name} is missing: pip install PyYAML kubernetes-validate", file=sys.stderr)
    sys.exit(2)

KUSTOMIZE_DIR = ROOT / "kustomize"
# The CRDs of the custom resources the overlays render (Gateway API v1.6.1, CloudNativePG
# v1.30.0), beside the repository: CI has it, a bare checkout may not.
CRD_DIR = ROOT.parent / "shared" / "crds"
CRD_GROUPS = ("gateway.networking.k8s.io", "postgresql.cnpg.io")
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
    # Secrets referenced but expected to exist in the cluster already (made by hand or by an
    # operator).
    external_secrets: set[str]
    image_tag: str | None = None
    pull_policy: str | None = None
    autoscaling: bool = False
    # topologySpreadConstraints over nodes on the api and the web
    spread: bool = False
    # What the traffic comes through: the nginx "ingress" or a Gateway API "gateway".
    edge: str = "ingress"
    # PostgreSQL: the base's "statefulset" or "cloudnative-pg".
    database: str = "statefulset"
    # Redis: the base's "single" Deployment or "sentinel" (3 data nodes, 3 Sentinels).
    cache: str = "single"


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

# CloudNativePG (production): the names of components/cloudnative-pg.
CNPG_CLUSTER, CNPG_POOLER = "banking-db", "banking-db-pooler-rw"
# The Secret the operator generates at bootstrap for the application's owner.
CNPG_APP_SECRET = f"{CNPG_CLUSTER}-app"
CNPG_OPERATOR_NAMESPACE = "cnpg-system"
# Redis with Sentinel (production): components/redis-sentinel.
SENTINEL_MASTER, SENTINELS, SENTINEL_QUORUM = "banking", 3, 2
SENTINEL_ADDRESSES = ",".join(f"redis-sentinel-{i}.redis-sentinel:26379" for i in range(SENTINELS))
# The label a namespace needs for its gateway data plane to reach the web and the api
# (components/gateway-api, docs/kubernetes.md).
GATEWAY_NAMESPACE_LABEL = ("banking/gateway", "true")
GATEWAY_CLASS = "eg"
# Above the application's own REQUEST_TIMEOUT_SECS default (30 s): the gateway cuts only what hangs.
APP_REQUEST_TIMEOUT_SECS = 30

MINIKUBE = Expect(
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
)

OVERLAYS: dict[str, Expect] = {
    "minikube": MINIKUBE,
    # The same, with a Gateway (plain HTTP) instead of the nginx Ingress.
    "minikube-gateway": replace(MINIKUBE, edge="gateway"),
    "production": Expect(
        host="banking.example.com",
        tls_secret="banking-tls",
        app_replicas=None,
        frontend_service="ClusterIP",
        backend_config=COMMON_BACKEND
        | {"ENVIRONMENT": "production", "GRAPHIQL": "false", "INTROSPECTION": "false", "LOG_FORMAT": "json",
           # Through the CloudNativePG pooler; the password from the operator's Secret.
           "DATABASE_URL": f"postgres://{DB_USER}@{CNPG_POOLER}:5432/{DB_NAME}",
           "DATABASE_POOL_SIZE": "16",
           # The master found through the Sentinels.
           "REDIS_SENTINELS": SENTINEL_ADDRESSES, "REDIS_SENTINEL_MASTER": SENTINEL_MASTER},
        frontend_config=COMMON_FRONTEND
        | {"ENVIRONMENT": "production", "COOKIE_SECURE": "true", "LOG_FORMAT": "json"},
        generated_secrets={},
        # backend-secrets and redis-credentials by hand; banking-db-app by the operator.
        external_secrets={"backend-secrets", "redis-credentials", CNPG_APP_SECRET},
        autoscaling=True,
        spread=True,
        edge="gateway",
        database="cloudnative-pg",
        cache="sentinel",
    ),
}


def services(expect: Expect) -> dict[str, tuple[str | None, int, int]]:
    """Service name -> (type, port, container port it must reach); type None: per overlay,
    "headless": a StatefulSet's governing Service. One port each: the metrics port is never
    behind a Service."""
    wanted: dict[str, tuple[str | None, int, int]] = {
        "banking-backend": ("ClusterIP", 8000, 8000),
        "banking-frontend": (None, 80, 8080),
    }
    if expect.database == "statefulset":
        wanted["postgres"] = ("ClusterIP", 5432, 5432)
    if expect.cache == "single":
        wanted["redis"] = ("ClusterIP", 6379, 6379)
    else:
        # Clients find the master through the Sentinels; `redis` only names the data nodes.
        wanted["redis"] = ("headless", 6379, 6379)
        wanted["redis-sentinel"] = ("headless", 26379, 26379)
    return wanted


def stateful_probes(expect: Expect) -> list[tuple[str, str, str]]:
    """(kind, name, command its exec probes run) of the stateful workloads the overlay renders."""
    wanted = []
    if expect.database == "statefulset":
        wanted.append(("StatefulSet", "postgres", "pg_isready"))
    if expect.cache == "single":
        wanted.append(("Deployment", "redis", "redis-cli"))
    else:
        wanted += [("StatefulSet", "redis", "redis-cli"), ("StatefulSet", "redis-sentinel", "redis-cli")]
    return wanted


# Deployment -> (container, {probe kind: path}, named port "http" number)
APP_PROBES = {
    # Readiness /ready (this pod can serve), never /health (shared dependencies): a Redis outage
    # must not take every api pod out of the Service at once.
    "banking-backend": ("api", {"startupProbe": "/ping", "readinessProbe": "/ready", "livenessProbe": "/ping"}, 8000),
    "banking-frontend": ("web", {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}, 8080),
}

# (path, service, port): the routes of the Ingress rule, and of the Gateway's HTTPRoutes
INGRESS_ROUTES = [("/graphql", "banking-backend", 8000), ("/api", "banking-backend", 8000), ("/", "banking-frontend", 80)]
# (path, match type, service, port): the Gateway's routes for connections that live as long
# as a page (subscriptions' WebSocket, the dashboard's event stream): request timeout "0s"
# (none), the applications bound them themselves.
LONG_LIVED_ROUTES = [("/graphql/ws", "PathPrefix", "banking-backend", 8000), ("/events", "Exact", "banking-frontend", 80)]
# The Ingress keeps those open at least this long between two reads (nginx's default: 60 s).
MIN_STREAM_TIMEOUT_SECS = 300

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


def group_of(obj: Obj) -> str:
    """The API group of an object ("" for the core group)."""
    api = str(obj.get("apiVersion", ""))
    return api.rpartition("/")[0]


def is_custom(obj: Obj) -> bool:
    """A custom resource of a CRD we validate ourselves (Gateway API, CloudNativePG)."""
    return group_of(obj) in CRD_GROUPS


def check_schema(objs: list[Obj], version: str) -> tuple[Problems, str]:
    """Built-in objects against the Kubernetes schemas (custom resources: check_crds)."""
    problems = []
    builtin = [o for o in objs if not is_custom(o)]
    for obj in builtin:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            where = ".".join(str(p) for p in err.path) or "(root)"
            problems.append(f"{kn(obj)} {where}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            problems.append(f"{kn(obj)}: {err.message}")
    return problems, f"{len(builtin)} built-in objects valid against Kubernetes {version} schemas, strict"


# --- Custom resources against their CRDs -----------------------------------------------------

# Schema keywords whose value is a map of name -> subschema, one subschema, or a list of them.
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
# What the API server accepts in the metadata of any object (ObjectMeta, as written by hand).
OBJECT_META = {"name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences"}


def strict_schema(schema: Any) -> Any:
    """A CRD's openAPIV3Schema as a JSON Schema that refuses unknown fields, as the API server
    prunes (and `kubectl apply --validate=strict` refuses) them: every object schema with
    `properties` and no `additionalProperties` or `x-kubernetes-preserve-unknown-fields` gets
    `additionalProperties: false`. The Kubernetes extensions become JSON Schema:
    `x-kubernetes-int-or-string` an integer or a string, `nullable` a null besides the type;
    `x-kubernetes-embedded-resource` objects may carry apiVersion, kind and metadata.
    CEL rules (`x-kubernetes-validations`) are not evaluated here."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: strict_schema(sub) for name, sub in out[key].items()}
    for key in _SUBSCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = strict_schema(out[key])
    if isinstance(out.get("items"), list):
        out["items"] = [strict_schema(sub) for sub in out["items"]]
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [strict_schema(sub) for sub in out[key]]
    if out.get("x-kubernetes-embedded-resource") and "properties" in out:
        out["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"type": "object"}} | out["properties"]
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if out.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    elif out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    return out


def load_crds(directory: Path) -> dict[tuple[str, str, str], Obj]:
    """(group, version, kind) -> the strict JSON Schema of every served version of every CRD
    in the YAML files under `directory`."""
    schemas = {}
    for path in sorted(directory.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec.get("versions", []):
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if version.get("served", True) and schema:
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    schemas[key] = strict_schema(schema)
    return schemas


def crd_problems(obj: Obj, schemas: dict[tuple[str, str, str], Obj]) -> Problems:
    """Why `obj` would not be accepted as its CRD describes it (empty: it would)."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    schema = schemas.get((group, version, str(obj.get("kind"))))
    if schema is None:
        return [f"{kn(obj)}: no CRD serves {obj.get('apiVersion')} {obj.get('kind')}"]
    problems = []
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        problems.append(f"{kn(obj)} metadata: no name")
    for key in sorted(set(meta) - OBJECT_META):
        problems.append(f"{kn(obj)} metadata: unknown field {key!r}")
    for key in ("labels", "annotations"):
        if not all(isinstance(v, str) for v in (meta.get(key) or {}).values()):
            problems.append(f"{kn(obj)} metadata.{key}: every value must be a string")
    validator = jsonschema.Draft4Validator(schema)
    for err in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(root)"
        problems.append(f"{kn(obj)} {where}: {err.message}")
    return problems


_CRDS: dict[tuple[str, str, str], Obj] | None = None


def crd_schemas() -> dict[tuple[str, str, str], Obj] | None:
    """The CRD schemas of CRD_DIR, read once; None without the directory."""
    global _CRDS
    if _CRDS is None and CRD_DIR.is_dir():
        _CRDS = load_crds(CRD_DIR)
    return _CRDS


def check_crds(objs: list[Obj]) -> tuple[Problems, str]:
    schemas = crd_schemas() or {}
    custom = [o for o in objs if is_custom(o)]
    problems = [p for o in custom for p in crd_problems(o, schemas)]
    if not custom:
        return problems, "no custom resources"
    kinds = sorted({str(o.get("kind")) for o in custom})
    return problems, (f"{len(custom)} custom resources ({', '.join(kinds)}) valid against their CRDs "
                      f"in ../shared/crds, strict; CEL rules checked below where they matter")


# Made-up custom resources the validation must refuse for the reason given (an unknown field,
# a wrong type, a value outside its enum, a kind no CRD serves), or accept (None; an
# int-or-string given as a string): proof that the CRD validation is strict, not a validator
# that passes everything or refuses everything.
CRD_SELF_CHECK: list[tuple[str, Obj, str | None]] = [
    ("a minimal Cluster", {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
                           "metadata": {"name": "x"}, "spec": {"instances": 3}}, None),
    ("a Cluster with a misspelt field (synchronous.dataDurabilty)",
     {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "x"},
      "spec": {"instances": 3, "postgresql": {"synchronous": {"method": "any", "number": 1,
                                                              "dataDurabilty": "required"}}}},
     "'dataDurabilty' was unexpected"),
    ("a Cluster with synchronous.method outside its enum",
     {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "x"},
      "spec": {"instances": 3, "postgresql": {"synchronous": {"method": "all", "number": 1}}}},
     "'all' is not one of"),
    ("a Pooler with maxSurge as a percentage (int-or-string)",
     {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "metadata": {"name": "p"},
      "spec": {"cluster": {"name": "x"}, "pgbouncer": {"poolMode": "session"},
               "deploymentStrategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}}, None),
    ("an HTTPRoute with an unknown timeout (timeouts.idle)",
     {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
      "spec": {"rules": [{"timeouts": {"request": "10s", "idle": "5s"}}]}}, "'idle' was unexpected"),
    ("a Gateway whose listener port is a string",
     {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g"},
      "spec": {"gatewayClassName": "eg", "listeners": [{"name": "http", "protocol": "HTTP", "port": "80"}]}},
     "is not of type 'integer'"),
    ("a ScheduledBackup with an unknown top-level field",
     {"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup", "metadata": {"name": "b"},
      "spec": {"cluster": {"name": "x"}, "schedule": "0 0 2 * * *"}, "extra": True}, "'extra' was unexpected"),
    ("a kind no CRD serves (postgresql.cnpg.io/v1 Database is not among the CRDs)",
     {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database", "metadata": {"name": "d"}, "spec": {}},
     "no CRD serves"),
]


def crd_self_check() -> Problems:
    schemas = crd_schemas() or {}
    problems = []
    for what, obj, reason in CRD_SELF_CHECK:
        refused = crd_problems(obj, schemas)
        if reason is None and refused:
            problems.append(f"{what} was refused: {refused[0]}")
        elif reason is not None and not any(reason in r for r in refused):
            problems.append(f"{what} was not refused for {reason!r}: {refused or 'accepted'}")
    return problems


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


def check_probes(objs: list[Obj], expect: Expect) -> Problems:
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
    # Stateful services: exec probes (CloudNativePG probes its own pods)
    for kind, name, command in stateful_probes(expect):
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
    """The pods the rendered objects make, by name: one per Deployment; two of a StatefulSet
    with several replicas (`name-0`, `name-1`: they talk to each other); and the pods
    CloudNativePG makes from a Cluster (a primary `name-1` and a replica `name-2`) and a Pooler,
    labelled as the operator labels them."""
    pods = {}
    for w in workloads(objs):
        ports = tuple((p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
                      for _, c in all_containers(pod_spec(w)) for p in c.get("ports", []) or [])
        name, ns = w["metadata"]["name"], w["metadata"].get("namespace", "")
        names = [name]
        if w["kind"] == "StatefulSet" and (w["spec"].get("replicas") or 1) > 1:
            names = [f"{name}-0", f"{name}-1"]
        for pod in names:
            pods[pod] = Pod(pod, ns, tuple(sorted(pod_labels(w).items())), ports)
    for cluster in (o for o in objs if o.get("kind") == "Cluster" and group_of(o) == "postgresql.cnpg.io"):
        name, ns = cluster["metadata"]["name"], cluster["metadata"].get("namespace", "")
        for i, role in ((1, "primary"), (2, "replica")):
            labels = {"cnpg.io/cluster": name, "cnpg.io/instanceName": f"{name}-{i}", "cnpg.io/podRole": "instance",
                      "cnpg.io/instanceRole": role, "role": role, "app.kubernetes.io/name": "postgresql",
                      "app.kubernetes.io/instance": name, "app.kubernetes.io/component": "database",
                      "app.kubernetes.io/managed-by": "cloudnative-pg"}
            pods[f"{name}-{i}"] = Pod(f"{name}-{i}", ns, tuple(sorted(labels.items())),
                                      (("postgresql", 5432, "TCP"), ("status", 8000, "TCP"), ("metrics", 9187, "TCP")))
    for pooler in (o for o in objs if o.get("kind") == "Pooler" and group_of(o) == "postgresql.cnpg.io"):
        name, ns = pooler["metadata"]["name"], pooler["metadata"].get("namespace", "")
        cluster = (pooler["spec"].get("cluster") or {}).get("name", "")
        labels = {"cnpg.io/cluster": cluster, "cnpg.io/poolerName": name, "cnpg.io/podRole": "pooler",
                  "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": cluster,
                  "app.kubernetes.io/component": "pooler", "app.kubernetes.io/managed-by": "cloudnative-pg"}
        pods[name] = Pod(name, ns, tuple(sorted(labels.items())), (("pgbouncer", 5432, "TCP"), ("metrics", 9127, "TCP")))
    return pods


# The label a namespace needs for its Prometheus to scrape the metrics ports
# (components/network-policies/prometheus.yaml, docs/kubernetes.md).
SCRAPER_NAMESPACE_LABEL = ("banking/metrics-scraper", "true")
# Egress to addresses outside the cluster's pods (ipBlock): only CloudNativePG's pods, only to
# the Kubernetes API and the object store, over HTTPS.
EXTERNAL_PORTS = {443, 6443}


def designed_flows(pods: dict[str, Pod], expect: Expect, edge: str, operator: str
                   ) -> tuple[dict[tuple[str, int], set[str]], dict[str, set[tuple[str, int]]]]:
    """What the policies must allow and nothing more: (destination, port) -> the sources its
    ingress rules let in, and source -> the (destination, port) its egress rules let out (DNS
    aside). Every pod absent from the second may connect nowhere."""
    accepts: dict[tuple[str, int], set[str]] = {
        ("banking-frontend", 8080): {edge},
        ("banking-backend", 8000): {"banking-frontend", edge},
        ("banking-frontend", METRICS_PORT): {"prometheus"},
        ("banking-backend", METRICS_PORT): {"prometheus"},
    }
    reaches: dict[str, set[tuple[str, int]]] = {"banking-frontend": {("banking-backend", 8000)},
                                                "banking-backend": set()}
    api = reaches["banking-backend"]
    if expect.database == "statefulset":
        accepts[("postgres", 5432)] = {"banking-backend"}
        api.add(("postgres", 5432))
    else:
        instances = sorted(n for n, p in pods.items() if p.label_map.get("cnpg.io/podRole") == "instance")
        accepts[(CNPG_POOLER, 5432)] = {"banking-backend"}
        api.add((CNPG_POOLER, 5432))
        reaches[CNPG_POOLER] = {(i, 5432) for i in instances}
        for i in instances:
            others = set(instances) - {i}
            # The pooler (the -rw Service: whichever instance is primary), each other
            # (replication, pg_rewind, the instance managers), the operator.
            accepts[(i, 5432)] = {CNPG_POOLER, operator} | others
            accepts[(i, 8000)] = {operator} | others
            reaches[i] = {(o, port) for o in others for port in (5432, 8000)}
    if expect.cache == "single":
        accepts[("redis", 6379)] = {"banking-backend"}
        api.add(("redis", 6379))
    else:
        data = sorted(n for n, p in pods.items() if p.label_map.get("app.kubernetes.io/name") == "redis")
        sentinels = sorted(n for n, p in pods.items() if p.label_map.get("app.kubernetes.io/name") == "redis-sentinel")
        for d in data:
            accepts[(d, 6379)] = {"banking-backend"} | (set(data) - {d}) | set(sentinels)
            reaches[d] = {(o, 6379) for o in data if o != d} | {(s, 26379) for s in sentinels}
            api.add((d, 6379))
        for s in sentinels:
            accepts[(s, 26379)] = {"banking-backend"} | set(data) | (set(sentinels) - {s})
            reaches[s] = {(d, 6379) for d in data} | {(o, 26379) for o in sentinels if o != s}
            api.add((s, 26379))
    return accepts, reaches


def check_external_egress(policies: list[Obj], pods: dict[str, Pod], expect: Expect) -> Problems:
    """ipBlock rules admit addresses, not pods, so the flows above cannot see them: only
    CloudNativePG's pods may have one, egress only, to HTTPS ports only; and they must (their
    managers talk to the Kubernetes API)."""
    problems = []
    cnpg = {n for n, p in pods.items() if "cnpg.io/cluster" in p.label_map}
    reach_out = set()
    for policy in policies:
        selected = {n for n, p in pods.items() if selecting([policy], p)}
        for key, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(key) or []:
                if not any("ipBlock" in peer for peer in rule.get(peers_key) or []):
                    continue
                ports = {rp.get("port") for rp in rule.get("ports") or [{}]}
                name = policy["metadata"]["name"]
                if key == "ingress":
                    problems.append(f"NetworkPolicy/{name} admits addresses (ipBlock) in")
                elif not selected <= cnpg:
                    problems.append(f"NetworkPolicy/{name} lets {sorted(selected - cnpg)} out to addresses (ipBlock)")
                elif not ports <= EXTERNAL_PORTS:
                    problems.append(f"NetworkPolicy/{name} lets CloudNativePG out to ports {sorted(map(str, ports))}, "
                                    f"expected only {sorted(EXTERNAL_PORTS)}")
                else:
                    reach_out |= selected
    if expect.database == "cloudnative-pg" and reach_out != cnpg:
        problems.append(f"{sorted(cnpg - reach_out)} cannot reach the Kubernetes API (no HTTPS egress)")
    return problems


def check_network_policies(objs: list[Obj], expect: Expect) -> Problems:
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

    nginx = Pod("ingress-nginx-controller", "ingress-nginx", (("app.kubernetes.io/name", "ingress-nginx"),),
                (("http", 80, "TCP"),))
    # The gateway's data plane (Envoy Gateway's proxies) in the labelled namespace, and the same
    # in a namespace without the label.
    envoy_labels = (("app.kubernetes.io/component", "proxy"), ("app.kubernetes.io/name", "envoy"))
    gateway = Pod("gateway", "envoy-gateway-system", envoy_labels, (("http", 10080, "TCP"),),
                  (GATEWAY_NAMESPACE_LABEL,))
    unlabelled_gateway = Pod("gateway-elsewhere", "other-gateway-system", envoy_labels)
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
    # The CloudNativePG operator, and another pod of its namespace (the Barman Cloud plugin)
    # that must not reach the instances.
    operator = Pod("cnpg-operator", CNPG_OPERATOR_NAMESPACE, (("app.kubernetes.io/name", "cloudnative-pg"),),
                   (("metrics", 8080, "TCP"),))
    operator_neighbour = Pod("barman-cloud-plugin", CNPG_OPERATOR_NAMESPACE,
                             (("app.kubernetes.io/name", "plugin-barman-cloud"),))
    edge = nginx if expect.edge == "ingress" else gateway
    needed = {"banking-backend", "banking-frontend"}
    needed |= {"postgres"} if expect.database == "statefulset" else {f"{CNPG_CLUSTER}-1", f"{CNPG_CLUSTER}-2", CNPG_POOLER}
    needed |= {"redis"} if expect.cache == "single" else {"redis-0", "redis-1", "redis-sentinel-0", "redis-sentinel-1"}
    missing = needed - pods.keys()
    if missing:
        return problems + [f"missing pods {sorted(missing)}"]

    accepts, reaches = designed_flows(pods, expect, edge.name, operator.name)
    outsiders = [nginx, gateway, unlabelled_gateway, stranger, prometheus, unlabelled_prometheus, grafana,
                 impostor, operator, operator_neighbour]
    everyone = {p.name: p for p in [*pods.values(), *outsiders]}
    # Each side on its own, so that one permissive policy is caught even where the other
    # side would still block the traffic.
    for (dst_name, port), allowed in accepts.items():
        dst = pods[dst_name]
        let_in = {src.name for src in everyone.values() if src is not dst and direction_allows(
            policies, dst, src, "Ingress", port, "TCP", dst)}
        if let_in != allowed:
            problems.append(f"{dst_name}:{port} accepts {sorted(let_in)}, expected {sorted(allowed)}")
    # Every port of every pod of the namespace that no designed flow uses: nobody gets in.
    for pod in pods.values():
        for _, number, proto in pod.ports:
            if (pod.name, number) in accepts or proto != "TCP":
                continue
            let_in = {src.name for src in everyone.values() if src is not pod and direction_allows(
                policies, pod, src, "Ingress", number, proto, pod)}
            if let_in:
                problems.append(f"{pod.name}:{number} accepts {sorted(let_in)}, expected nobody")
    targets = list(accepts) + [("stranger", 443), ("ingress-nginx-controller", 80), ("gateway", 10080),
                               ("prometheus", 9090), ("cnpg-operator", 8080)]
    for src_name, src in pods.items():
        allowed = reaches.get(src_name, set())
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
    return problems + check_external_egress(policies, pods, expect)


def check_services(objs: list[Obj], expect: Expect) -> Problems:
    problems = []
    wanted = services(expect)
    for name, (svc_type, port, target) in wanted.items():
        svc_type = svc_type or expect.frontend_service
        svc = find(objs, "Service", name)
        if not svc:
            problems.append(f"no Service {name}")
            continue
        spec = svc["spec"]
        headless = spec.get("clusterIP") == "None"
        if svc_type == "headless":
            if not headless or spec.get("type", "ClusterIP") != "ClusterIP":
                problems.append(f"Service/{name} is not headless (clusterIP None)")
            if not spec.get("publishNotReadyAddresses"):
                problems.append(f"Service/{name}: publishNotReadyAddresses false, its pods cannot find "
                                "each other before they are ready")
            sets = [w for w in of_kind(objs, "StatefulSet") if w["spec"].get("serviceName") == name]
            if len(sets) != 1:
                problems.append(f"Service/{name} governs {len(sets)} StatefulSets, expected 1")
        elif headless:
            problems.append(f"Service/{name} is headless, expected {svc_type}")
        elif spec.get("type", "ClusterIP") != svc_type:
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
    for svc in of_kind(objs, "Service"):
        if svc["metadata"]["name"] not in wanted:
            problems.append(f"unexpected Service/{svc['metadata']['name']}")
    return problems


def check_edge(objs: list[Obj], expect: Expect) -> Problems:
    """The routes from outside: the nginx Ingress, or the Gateway and its HTTPRoutes."""
    if expect.edge == "gateway":
        problems = check_gateway(objs, expect)
        if of_kind(objs, "Ingress"):
            problems.append(f"an Ingress beside the Gateway: {[kn(o) for o in of_kind(objs, 'Ingress')]}")
        return problems
    problems = check_ingress(objs, expect)
    gateways = [o for o in objs if group_of(o) == "gateway.networking.k8s.io"]
    if gateways:
        problems.append(f"Gateway API objects beside the Ingress: {[kn(o) for o in gateways]}")
    return problems


GATEWAY_DURATION = re.compile(r"(\d+)(h|ms|m|s)")


def duration_secs(text: str) -> float:
    """A Gateway API duration (GEP-2257: 1h2m3s4ms) in seconds."""
    unit = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(int(n) * unit[u] for n, u in GATEWAY_DURATION.findall(text))


def check_gateway(objs: list[Obj], expect: Expect) -> Problems:
    """The Gateway's listeners (HTTPS with the certificate where TLS is expected, plain HTTP
    only redirecting there), and HTTPRoutes with exactly the Ingress's routes, each with
    timeouts above the application's own. (The CEL rules of the CRDs are not evaluated by the
    schema validation: the ones that matter here are checked by hand.)"""
    gw = find(objs, "Gateway", "banking-gateway")
    if not gw:
        return ["no Gateway banking-gateway"]
    problems = []
    spec = gw["spec"]
    if spec.get("gatewayClassName") != GATEWAY_CLASS:
        problems.append(f"gatewayClassName {spec.get('gatewayClassName')!r}, expected {GATEWAY_CLASS!r}")
    listeners = {l["name"]: l for l in spec.get("listeners") or []}
    for l in listeners.values():
        if l.get("hostname") != expect.host:
            problems.append(f"listener {l['name']} hostname {l.get('hostname')!r}, expected {expect.host!r}")
        if ((l.get("allowedRoutes") or {}).get("namespaces") or {}).get("from") != "Same":
            problems.append(f"listener {l['name']} admits routes from other namespaces")
        if l.get("protocol") in ("HTTP", "TCP", "UDP") and "tls" in l:
            problems.append(f"listener {l['name']}: tls on protocol {l['protocol']}")
    app_listener = "http"
    if expect.tls_secret:
        app_listener = "https"
        https = listeners.get("https") or {}
        tls = https.get("tls") or {}
        refs = tls.get("certificateRefs") or []
        if (https.get("protocol"), https.get("port")) != ("HTTPS", 443):
            problems.append("no HTTPS listener `https` on 443")
        if tls.get("mode", "Terminate") != "Terminate" or [(r.get("kind", "Secret"), r.get("name"))
                                                            for r in refs] != [("Secret", expect.tls_secret)]:
            problems.append(f"listener https does not terminate TLS with Secret {expect.tls_secret}")
    http = listeners.get("http") or {}
    if (http.get("protocol"), http.get("port")) != ("HTTP", 80):
        problems.append("no HTTP listener `http` on 80")
    if set(listeners) != {"http", app_listener}:
        problems.append(f"listeners {sorted(listeners)}, expected {sorted({'http', app_listener})}")

    got, redirects = [], []
    for route in of_kind(objs, "HTTPRoute"):
        name = route["metadata"]["name"]
        rs = route["spec"]
        parents = rs.get("parentRefs") or []
        sections = {p.get("sectionName") for p in parents if p.get("name") == "banking-gateway"}
        if len(parents) != 1 or not sections:
            problems.append(f"HTTPRoute/{name} must attach to banking-gateway only, to one listener")
            continue
        if rs.get("hostnames") != [expect.host]:
            problems.append(f"HTTPRoute/{name} hostnames {rs.get('hostnames')}, expected [{expect.host!r}]")
        for rule in rs.get("rules") or []:
            filters = rule.get("filters") or []
            redirect = [f for f in filters if f.get("type") == "RequestRedirect"]
            if redirect:
                if rule.get("backendRefs"):
                    problems.append(f"HTTPRoute/{name}: a RequestRedirect with backendRefs")
                redirects.append((sections, redirect[0].get("requestRedirect") or {}))
                continue
            if sections != {app_listener}:
                problems.append(f"HTTPRoute/{name} serves the application on listener {sorted(sections)}, "
                                f"expected {app_listener!r}")
            timeouts = rule.get("timeouts") or {}
            request, backend = timeouts.get("request"), timeouts.get("backendRequest")
            paths = [((m.get("path") or {}).get("value"), (m.get("path") or {}).get("type")) for m in rule.get("matches") or [{}]]
            long_lived = {(p, t) for p, t, _, _ in LONG_LIVED_ROUTES}
            if paths and all(p in long_lived for p in paths):
                if request is None or duration_secs(request) != 0 or backend is not None:
                    problems.append(f"HTTPRoute/{name}: the long-lived route {paths} must have timeouts.request 0s and no backendRequest")
            elif not request or not backend:
                problems.append(f"HTTPRoute/{name}: a rule without timeouts.request and timeouts.backendRequest")
            elif duration_secs(backend) > duration_secs(request) and duration_secs(request) != 0:
                problems.append(f"HTTPRoute/{name}: backendRequest {backend} is longer than request {request}")
            elif duration_secs(backend) <= APP_REQUEST_TIMEOUT_SECS:
                problems.append(f"HTTPRoute/{name}: backendRequest {backend} cuts before the application's own "
                                f"{APP_REQUEST_TIMEOUT_SECS} s timeout answers")
            for match in rule.get("matches") or [{}]:
                path = match.get("path") or {"type": "PathPrefix", "value": "/"}
                for ref in rule.get("backendRefs") or []:
                    got.append((path.get("value"), path.get("type"), ref.get("name"), ref.get("port"),
                                ref.get("kind", "Service"), ref.get("weight", 1)))
    want = [(path, "PathPrefix", svc, port, "Service", 1) for path, svc, port in INGRESS_ROUTES]
    want += [(path, kind, svc, port, "Service", 1) for path, kind, svc, port in LONG_LIVED_ROUTES]
    if sorted(got) != sorted(want):
        problems.append(f"routes {sorted(got)}, expected {sorted(want)}")
    for path, _, svc, port, _, _ in got:
        s = find(objs, "Service", svc)
        if not s or port not in [p.get("port") for p in s["spec"].get("ports", [])]:
            problems.append(f"route {path} to {svc}:{port}: no such Service port")
    if expect.tls_secret:
        if not any(sections == {"http"} and r.get("scheme") == "https" and r.get("statusCode") in (301, 308)
                   for sections, r in redirects):
            problems.append("plain HTTP is not redirected to https (301) on listener http")
    elif redirects:
        problems.append("a redirect where plain HTTP is expected to serve")
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
    for key in ("nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout"):
        value = annotations.get(key, "60")
        if not value.isdigit() or int(value) < MIN_STREAM_TIMEOUT_SECS:
            problems.append(f"annotation {key}={value!r}: subscriptions and event streams need at least {MIN_STREAM_TIMEOUT_SECS} s")
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


def env_of(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", []) or []}


def secret_ref(container: Obj, var: str) -> tuple[str, str | None]:
    """(Secret base name, key) a container's env variable comes from; ("", None) if not from one."""
    ref = ((env_of(container).get(var) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    return base_name(ref.get("name", "")), ref.get("key")


def check_postgres_statefulset(objs: list[Obj]) -> Problems:
    problems = []
    pg = find(objs, "StatefulSet", "postgres")
    if not pg:
        return ["no StatefulSet postgres"]
    spec = pg["spec"]
    c = pod_spec(pg)["containers"][0]
    env = env_of(c)
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
    if secret_ref(c, "POSTGRES_PASSWORD") != ("postgres-credentials", "password"):
        problems.append("postgres: POSTGRES_PASSWORD must come from Secret postgres-credentials key password")
    claims = spec.get("volumeClaimTemplates") or []
    if not any(t["spec"].get("accessModes") == ["ReadWriteOnce"]
               and t["spec"]["resources"]["requests"].get("storage") == "1Gi" for t in claims):
        problems.append("postgres: volumeClaimTemplate 1Gi ReadWriteOnce expected")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    pgdata = env.get("PGDATA", {}).get("value", "")
    if not any(pgdata.startswith(m) for m in mounts):
        problems.append(f"postgres: PGDATA {pgdata!r} is not under a mounted volume")
    return problems


def check_cloudnative_pg(objs: list[Obj], expect: Expect) -> Problems:
    """The Cluster (3 instances, quorum synchronous replication that never degrades, the seed's
    database and owner, one instance per node, WAL archived), the session-mode Pooler the api
    uses, the ScheduledBackup, the api's connection through them, pool sizes that add up, and
    no trace of the in-cluster StatefulSet."""
    problems = []
    cluster = find(objs, "Cluster", CNPG_CLUSTER)
    pooler = find(objs, "Pooler", CNPG_POOLER)
    backup = next((b for b in of_kind(objs, "ScheduledBackup")
                   if (b["spec"].get("cluster") or {}).get("name") == CNPG_CLUSTER), None)
    if not cluster or not pooler or not backup:
        return [f"CloudNativePG needs Cluster {CNPG_CLUSTER}, Pooler {CNPG_POOLER} and a ScheduledBackup of it"]
    cs = cluster["spec"]
    if cs.get("instances") != 3:
        problems.append(f"Cluster {CNPG_CLUSTER}: {cs.get('instances')} instances, expected 3")
    sync = (cs.get("postgresql") or {}).get("synchronous") or {}
    want_sync = {"method": "any", "number": 1, "dataDurability": "required", "failoverQuorum": True}
    for key, value in want_sync.items():
        if sync.get(key) != value:
            problems.append(f"Cluster {CNPG_CLUSTER}: postgresql.synchronous.{key} is {sync.get(key)!r}, "
                            f"expected {value!r}")
    if cs.get("minSyncReplicas") or cs.get("maxSyncReplicas"):
        problems.append(f"Cluster {CNPG_CLUSTER}: the legacy min/maxSyncReplicas beside postgresql.synchronous")
    initdb = (cs.get("bootstrap") or {}).get("initdb") or {}
    if (initdb.get("database"), initdb.get("owner")) != (DB_NAME, DB_USER):
        problems.append(f"Cluster {CNPG_CLUSTER}: bootstrap.initdb must create {DB_NAME} owned by {DB_USER}")
    if initdb.get("secret"):
        problems.append(f"Cluster {CNPG_CLUSTER}: bootstrap.initdb.secret set; the api reads the generated "
                        f"{CNPG_APP_SECRET}")
    affinity = cs.get("affinity") or {}
    if (affinity.get("enablePodAntiAffinity", True), affinity.get("podAntiAffinityType"),
            affinity.get("topologyKey")) != (True, "required", "kubernetes.io/hostname"):
        problems.append(f"Cluster {CNPG_CLUSTER}: instances must be kept on distinct nodes (required anti-affinity)")
    archivers = [p for p in cs.get("plugins") or [] if p.get("isWALArchiver")]
    if len(archivers) != 1 or not (archivers[0].get("parameters") or {}).get("barmanObjectName"):
        problems.append(f"Cluster {CNPG_CLUSTER}: no WAL archiver plugin with a barmanObjectName")
    if not (cs.get("storage") or {}).get("size"):
        problems.append(f"Cluster {CNPG_CLUSTER}: no storage size")
    ps = pooler["spec"]
    bouncer = ps.get("pgbouncer") or {}
    if ((ps.get("cluster") or {}).get("name"), ps.get("type", "rw"), bouncer.get("poolMode", "session")) != (
            CNPG_CLUSTER, "rw", "session"):
        problems.append(f"Pooler {CNPG_POOLER}: expected type rw, poolMode session, cluster {CNPG_CLUSTER}")
    if ps.get("instances", 1) < 2:
        problems.append(f"Pooler {CNPG_POOLER}: {ps.get('instances', 1)} instance, a node's loss would cut the api off")
    bs = backup["spec"]
    plugin = (bs.get("pluginConfiguration") or {}).get("name")
    if bs.get("method") != "plugin" or not archivers or plugin != archivers[0].get("name"):
        problems.append(f"ScheduledBackup/{backup['metadata']['name']}: method plugin through the Cluster's "
                        "WAL archiver expected")
    if len(str(bs.get("schedule", "")).split()) != 6:
        problems.append(f"ScheduledBackup/{backup['metadata']['name']}: schedule {bs.get('schedule')!r} is not "
                        "six fields (seconds first)")
    # The api and its migrate initContainer: through the pooler, the operator's password.
    api = find(objs, "Deployment", "banking-backend")
    if api:
        for what, c in all_containers(pod_spec(api)):
            if secret_ref(c, "DATABASE_PASSWORD") != (CNPG_APP_SECRET, "password"):
                problems.append(f"banking-backend {what} {c['name']}: DATABASE_PASSWORD must come from Secret "
                                f"{CNPG_APP_SECRET} key password")
    # Pool sizes: every api connection is a client session of PgBouncer and, in session mode,
    # one server connection: the most api pods at once (the HPA's maximum plus the rollout's
    # surge) times the pool of each must fit one PgBouncer's pool and PostgreSQL.
    config = (generated(objs, "ConfigMap", "backend-config") or {}).get("data") or {}
    hpa = next((h for h in of_kind(objs, "HorizontalPodAutoscaler")
                if h["spec"]["scaleTargetRef"].get("name") == "banking-backend"), None)
    try:
        pool = int(config.get("DATABASE_POOL_SIZE", "16"))
        surge = int(((api or {}).get("spec", {}).get("strategy", {}).get("rollingUpdate") or {}).get("maxSurge", 1))
        pods = (hpa["spec"]["maxReplicas"] if hpa else 1) + surge
        per_bouncer = int((bouncer.get("parameters") or {}).get("default_pool_size", "20"))
        max_connections = int(((cs.get("postgresql") or {}).get("parameters") or {}).get("max_connections", "100"))
    except (TypeError, ValueError) as err:
        problems.append(f"pool sizes are not numbers: {err}")
    else:
        if pods * pool > per_bouncer:
            problems.append(f"{pods} api pods x DATABASE_POOL_SIZE {pool} = {pods * pool} sessions exceed "
                            f"PgBouncer's default_pool_size {per_bouncer}: clients would queue")
        if pods * pool + 10 > max_connections:
            problems.append(f"{pods * pool} api sessions (+10 for the operator and replication) exceed "
                            f"PostgreSQL's max_connections {max_connections}")
    for kind in ("StatefulSet", "Service", "NetworkPolicy"):
        if find(objs, kind, "postgres"):
            problems.append(f"{kind}/postgres beside CloudNativePG")
    return problems


def check_redis_node(objs: list[Obj], rd: Obj) -> Problems:
    """What every Redis data node needs: the image, requirepass from the Secret the api reads,
    PONG-checking probes, the shared redis.conf."""
    problems = []
    c = pod_spec(rd)["containers"][0]
    if c.get("image") != "redis:7-alpine":
        problems.append(f"redis image {c.get('image')}")
    # requirepass from the Secret, and the api given the same Secret key.
    cmd = (c.get("command") or []) + (c.get("args") or [])
    if "--requirepass" not in cmd or cmd[cmd.index("--requirepass") + 1:][:1] != ["$(REDIS_PASSWORD)"]:
        problems.append(f"redis: command {cmd} does not set --requirepass $(REDIS_PASSWORD)")
    api = find(objs, "Deployment", "banking-backend")
    for who, container in (("redis", c), ("banking-backend", pod_spec(api)["containers"][0] if api else {})):
        if secret_ref(container, "REDIS_PASSWORD") != ("redis-credentials", "password"):
            problems.append(f"{who}: REDIS_PASSWORD must come from Secret redis-credentials key password")
    for probe in ("readinessProbe", "livenessProbe"):
        cmd = " ".join(((c.get(probe) or {}).get("exec") or {}).get("command") or [])
        if "PONG" not in cmd:
            problems.append(f"redis: {probe} `{cmd}` does not look for PONG (redis-cli exits 0 on NOAUTH)")
    if "REDISCLI_AUTH" not in env_of(c):
        problems.append("redis: no REDISCLI_AUTH for the probes' redis-cli")
    cm = generated(objs, "ConfigMap", "redis-config")
    conf = "\n".join((cm or {}).get("data", {}).values())
    for line in ("maxmemory 256mb", "maxmemory-policy allkeys-lru", "appendonly yes", "dir /data"):
        if not re.search(rf"^{re.escape(line)}\s*$", conf, re.M):
            problems.append(f"redis-config lacks `{line}`")
    return problems


def check_single_redis(objs: list[Obj]) -> Problems:
    rd = find(objs, "Deployment", "redis")
    if not rd:
        return ["no Deployment redis"]
    problems = check_redis_node(objs, rd)
    c = pod_spec(rd)["containers"][0]
    vols = {v["name"]: v for v in pod_spec(rd).get("volumes", [])}
    data = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/data"]
    if not data or (vols.get(data[0]["name"], {}).get("persistentVolumeClaim") or {}).get("claimName") != "redis-data":
        problems.append("redis: PVC redis-data must be mounted at /data")
    if not find(objs, "PersistentVolumeClaim", "redis-data"):
        problems.append("no PersistentVolumeClaim redis-data")
    return problems


def scripts_of(objs: list[Obj], workload: Obj) -> str:
    """The text of every ConfigMap a workload mounts (its start scripts)."""
    names = {v["configMap"]["name"] for v in pod_spec(workload).get("volumes", []) or [] if "configMap" in v}
    return "\n".join(v for cm in of_kind(objs, "ConfigMap") if cm["metadata"]["name"] in names
                     for v in (cm.get("data") or {}).values())


def check_sentinel(objs: list[Obj], expect: Expect) -> Problems:
    """Three data nodes, each with its own volume and spread over nodes; three Sentinels with
    quorum 2 on master `banking`, spread likewise; the api told where they are; nothing left of
    the single Redis."""
    problems = []
    rd, sen = find(objs, "StatefulSet", "redis"), find(objs, "StatefulSet", "redis-sentinel")
    if not rd or not sen:
        return ["Redis with Sentinel needs StatefulSets redis and redis-sentinel"]
    problems += check_redis_node(objs, rd)
    for w, count in ((rd, 3), (sen, SENTINELS)):
        name = w["metadata"]["name"]
        if w["spec"].get("replicas") != count:
            problems.append(f"StatefulSet/{name}: {w['spec'].get('replicas')} replicas, expected {count}")
        spread = [t for t in pod_spec(w).get("topologySpreadConstraints") or []
                  if t.get("topologyKey") == "kubernetes.io/hostname" and t.get("whenUnsatisfiable") == "DoNotSchedule"
                  and matches(t.get("labelSelector"), pod_labels(w))]
        if not spread:
            problems.append(f"StatefulSet/{name}: no hard spread over nodes (a node's loss could take two)")
    c = pod_spec(rd)["containers"][0]
    cmd = (c.get("command") or []) + (c.get("args") or [])
    if "--masterauth" not in cmd or cmd[cmd.index("--masterauth") + 1:][:1] != ["$(REDIS_PASSWORD)"]:
        problems.append("redis: replicas do not authenticate to their master (--masterauth $(REDIS_PASSWORD))")
    claims = rd["spec"].get("volumeClaimTemplates") or []
    data = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/data"]
    if not data or data[0]["name"] not in {t["metadata"]["name"] for t in claims}:
        problems.append("redis: /data is not a volume of its own (volumeClaimTemplates)")
    for what in (("Deployment", "redis"), ("PersistentVolumeClaim", "redis-data")):
        if find(objs, *what):
            problems.append(f"{what[0]}/{what[1]} of the single Redis is still rendered")
    sc = pod_spec(sen)["containers"][0]
    senv = {k: v.get("value") for k, v in env_of(sc).items()}
    if (senv.get("SENTINEL_MASTER"), senv.get("SENTINEL_QUORUM")) != (SENTINEL_MASTER, str(SENTINEL_QUORUM)):
        problems.append(f"redis-sentinel: master {senv.get('SENTINEL_MASTER')!r} quorum {senv.get('SENTINEL_QUORUM')!r}, "
                        f"expected {SENTINEL_MASTER!r} {SENTINEL_QUORUM}")
    if secret_ref(sc, "REDIS_PASSWORD") != ("redis-credentials", "password"):
        problems.append("redis-sentinel: REDIS_PASSWORD (auth-pass) must come from Secret redis-credentials")
    script = scripts_of(objs, sen)
    for needed in ("sentinel monitor ${SENTINEL_MASTER}", "${SENTINEL_QUORUM}", "sentinel auth-pass",
                   "sentinel resolve-hostnames yes", "sentinel announce-hostnames yes"):
        if needed not in script:
            problems.append(f"the Sentinel start script lacks `{needed}`")
    if "--replica-announce-ip" not in scripts_of(objs, rd):
        problems.append("the data nodes do not announce their stable names (--replica-announce-ip)")
    if (env_of(c).get("SENTINEL_MASTER") or {}).get("value") != SENTINEL_MASTER:
        problems.append(f"redis: SENTINEL_MASTER is not {SENTINEL_MASTER!r} (the master it asks the Sentinels for)")
    config = (generated(objs, "ConfigMap", "backend-config") or {}).get("data") or {}
    want = ",".join(f"{sen['metadata']['name']}-{i}.{sen['spec'].get('serviceName')}:26379"
                    for i in range(sen["spec"].get("replicas") or 0))
    if config.get("REDIS_SENTINELS") != want:
        problems.append(f"backend-config REDIS_SENTINELS {config.get('REDIS_SENTINELS')!r}, expected {want!r} "
                        "(the Sentinel pods' stable names)")
    if config.get("REDIS_SENTINEL_MASTER") != SENTINEL_MASTER:
        problems.append(f"backend-config REDIS_SENTINEL_MASTER is not {SENTINEL_MASTER!r}")
    budgets = {base_name(p["metadata"]["name"]): p["spec"] for p in of_kind(objs, "PodDisruptionBudget")}
    for name in ("redis", "redis-sentinel"):
        if (budgets.get(name) or {}).get("maxUnavailable") != 1:
            problems.append(f"no PodDisruptionBudget maxUnavailable 1 for {name}")
    return problems


def check_stateful(objs: list[Obj], expect: Expect) -> Problems:
    if expect.database == "statefulset":
        problems = check_postgres_statefulset(objs)
    else:
        problems = check_cloudnative_pg(objs, expect)
    if expect.cache == "single":
        problems += check_single_redis(objs)
    else:
        problems += check_sentinel(objs, expect)
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
    ("Ingress or Gateway routes", check_edge),
    ("PostgreSQL and Redis", check_stateful),
    ("overlay settings", check_settings),
]

# ------------------------------------------------------------------------------------------


class Report(Checks):
    """The ok/FAIL lines: a check passes when it found no problems, else its FAIL line lists them."""

    def record(self, label: str, problems: Problems, note: str = "") -> None:
        if problems:
            shown = "; ".join(problems[:8]) + (f"; … {len(problems) - 8} more" if len(problems) > 8 else "")
            self.fail(label, shown)
        else:
            self.ok(label + (f" ({note})" if note else ""))


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
    if crd_schemas() is None:
        print(f"skipped: ../shared/crds not found ({CRD_DIR}): custom resources are not validated "
              "against their CRDs", flush=True)
    else:
        report.record("crd: the validation refuses unknown fields, wrong types and values, unknown kinds",
                      crd_self_check(), f"{len(CRD_SELF_CHECK)} made-up resources")
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
        if crd_schemas() is not None:
            problems, note = check_crds(objs)
            report.record(f"{name}: custom resources", problems, note)
        elif any(is_custom(o) for o in objs):
            print(f"skipped {name}: custom resources: ../shared/crds not found", flush=True)
        if args.validate_only:
            continue
        for label, check in CHECKS:
            try:
                problems = check(objs, expect)
            except (KeyError, TypeError, IndexError, AttributeError) as err:
                problems = [f"malformed object ({type(err).__name__}: {err})"]
            report.record(f"{name}: {label}", problems)
    print(report.summary("k8s"))
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
