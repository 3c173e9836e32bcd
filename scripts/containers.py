#!/usr/bin/env python3
"""The runtime images, run the way the pods run them.

Builds banking-api:dev and banking-web:dev with scripts/images.sh (podman, FROM scratch, no
registry), renders kustomize/overlays/minikube and runs what the rendered pod specs describe:

- the `migrate` initContainer, then the `api` and `web` containers, as uid/gid 10001 with a
  read-only root filesystem, every capability dropped, no privilege escalation, a tmpfs /tmp
  (the pods' emptyDir) and podman's default seccomp profile (RuntimeDefault);
- with the env of the rendered ConfigMaps and Secrets (envFrom, env, secretKeyRef); only the
  ports differ (one host network here, so every process needs its own), and the Services'
  names `postgres`, `redis`, `banking-backend` resolve to 127.0.0.1 (--add-host);
- against the local PostgreSQL (role banking_user, database banking_db, created for the test)
  and a Redis of its own started with the `requirepass` of the rendered Secret.

Then it checks, from outside the containers (there is no shell inside): `podman inspect` and
/proc/<pid>/status and mountinfo of each container's process; the probes of the rendered pod
specs answer; /metrics answers 404 on the public ports and Prometheus text on the metrics
ports; and a customer signs in and transfers money through the web container, which talks to
the api container (HTML forms with their CSRF tokens, as a browser does).

podman must work (with runc: crun refuses this machine's cgroups): when it does not, this
fails; it never skips. Ends with `containers: N passed, M failed`.
"""

from __future__ import annotations

import fcntl
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import container_env, find, render, wait_redis  # noqa: E402
from support import ROOT, Checks, NoRedirect, spare_port, wait_http  # noqa: E402

PG_ADMIN = os.environ.get("CONTAINERS_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
LOCK = Path("/tmp/banking-containers.lock")
# The flags every container gets: the pod spec's securityContext, in podman's words.
# --runtime runc: crun cannot set up this machine's cgroups. The ulimits: podman's defaults
# are higher than this machine lets an unprivileged container have.
POD_FLAGS = [
    "--pull=never",
    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=512:512",
    "--user", "10001:10001",                    # runAsUser, runAsGroup
    "--read-only",                              # readOnlyRootFilesystem
    "--read-only-tmpfs=false",
    "--tmpfs", "/tmp:rw,size=64m,mode=1777",   # the emptyDir /tmp, sizeLimit 64Mi
    "--cap-drop", "ALL",                        # capabilities.drop [ALL]
    "--security-opt", "no-new-privileges",      # allowPrivilegeEscalation false
    "--network", "host",
    "--add-host", "postgres:127.0.0.1",
    "--add-host", "redis:127.0.0.1",
    "--add-host", "banking-backend:127.0.0.1",
]

def podman(*args: str, env: dict[str, str] | None = None, check_rc: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", "--runtime", "runc", *args], capture_output=True, text=True, env=env)
    if check_rc and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])}… exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return done


def with_port(value: str, port: int) -> str:
    """host:port or scheme://[user@]host:port/… with another port."""
    return re.sub(r"(?<=:)\d+(?=(/|$))", str(port), value, count=1)


def bind(port: int) -> str:
    """A bind address on 127.0.0.1 (the pods listen on 0.0.0.0 of their own IP, not the host's)."""
    return f"127.0.0.1:{port}"


def probe_paths(docs, deployment: str) -> dict[str, str]:
    c = find(docs, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]
    return {kind: c[kind]["httpGet"]["path"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}


def get(url: str, opener=None, timeout: float = 10) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:  # nothing listening: status 0, and why
        return 0, str(e)


class Browser:
    """Cookies, forms, no automatic redirects: what the web's pages see from a browser."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def get(self, path: str) -> tuple[int, str]:
        return get(self.base + path, self.opener)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with self.opener.open(req, timeout=15) as r:
                return r.status, r.read().decode(errors="replace"), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace"), dict(e.headers)


def hidden(page: str, name: str) -> str:
    m = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return m.group(1) if m else ""


def gql(api: str, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(f"{api}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return {"errors": [{"message": f"HTTP {e.code}: {e.read().decode(errors='replace')[:300]}"}]}


def process_facts(name: str) -> dict:
    """What the kernel says about the container's first process, read from the host."""
    info = json.loads(podman("inspect", name).stdout)[0]
    pid = info["State"]["Pid"]
    status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    root_mount = next((line.split() for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
                       if line.split()[4] == "/"), [])
    tmp_mount = next((line for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
                      if line.split()[4] == "/tmp"), "")
    return {"inspect": info, "status": status, "root_options": root_mount[5].split(",") if root_mount else [],
            "tmp_mount": tmp_mount}


def check_confinement(checks: Checks, label: str, name: str) -> None:
    facts = process_facts(name)
    info, status = facts["inspect"], facts["status"]
    checks.check(f"{label}: podman inspect: user 10001:10001, read-only root, no capabilities",
                 info["Config"].get("User") == "10001:10001" and info["HostConfig"].get("ReadonlyRootfs") is True
                 and not info.get("EffectiveCaps") and not info.get("BoundingCaps"),
                 f"User={info['Config'].get('User')} ReadonlyRootfs={info['HostConfig'].get('ReadonlyRootfs')} "
                 f"EffectiveCaps={info.get('EffectiveCaps')} BoundingCaps={info.get('BoundingCaps')}")
    ids = ["10001"] * 4
    checks.check(f"{label}: /proc status: uid and gid 10001 (real, effective, saved, fs)",
                 status.get("Uid", "").split() == ids and status.get("Gid", "").split() == ids
                 and status.get("Groups", "").split() in ([], ["10001"]),
                 f"Uid {status.get('Uid')} Gid {status.get('Gid')} Groups {status.get('Groups')}")
    caps = {k: status.get(k) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    checks.check(f"{label}: /proc status: every capability set empty", all(v and int(v, 16) == 0 for v in caps.values()), str(caps))
    checks.check(f"{label}: /proc status: no new privileges, seccomp filter on",
                 status.get("NoNewPrivs") == "1" and status.get("Seccomp") == "2",
                 f"NoNewPrivs {status.get('NoNewPrivs')} Seccomp {status.get('Seccomp')}")
    checks.check(f"{label}: root filesystem mounted read-only, /tmp a tmpfs",
                 "ro" in facts["root_options"] and " tmpfs " in facts["tmp_mount"],
                 f"/ {facts['root_options']}; /tmp {facts['tmp_mount']!r}")


def main() -> int:
    if not shutil.which("podman"):
        print("FAIL podman is not installed (apt-get install podman runc): the images cannot be tested", flush=True)
        print("containers: 0 passed, 1 failed")
        return 1
    checks = Checks()
    # One run at a time on a machine: they share the names banking_db and banking_user.
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)

    build = subprocess.run(["bash", str(ROOT / "scripts/images.sh")], cwd=ROOT)
    if not checks.check("images built without a registry (scripts/images.sh)", build.returncode == 0, f"exit {build.returncode}"):
        print(checks.summary("containers"))
        return 1
    for image in ("banking-api:dev", "banking-web:dev"):
        history = podman("history", "--format", "{{.CreatedBy}}", image).stdout
        layers = podman("inspect", "--format", "{{len .RootFS.Layers}}", image).stdout.strip()
        checks.check(f"{image}: one layer on scratch", layers == "1", f"{layers} layers; history {history!r}")

    docs = render()
    run_id = uuid.uuid4().hex[:8]
    names: list[str] = []
    redis = None
    api_env_k8s = container_env(docs, "banking-backend")
    web_env_k8s = container_env(docs, "banking-frontend")
    user = re.match(r"postgres://([^@:]+)@", api_env_k8s["DATABASE_URL"]).group(1)
    database = api_env_k8s["DATABASE_URL"].rsplit("/", 1)[1].split("?")[0]
    checks.check("rendered DATABASE_URL names banking_user and banking_db",
                 (user, database) == ("banking_user", "banking_db"), api_env_k8s["DATABASE_URL"])
    psql = ["psql", PG_ADMIN, "-v", "ON_ERROR_STOP=1", "-qc"]
    try:
        # The StatefulSet's database, as POSTGRES_USER / POSTGRES_DB / POSTGRES_PASSWORD make it.
        password = api_env_k8s["DATABASE_PASSWORD"].replace("'", "''")
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
        subprocess.run([*psql, f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') "
                               f"THEN CREATE ROLE {user} LOGIN; END IF; END$$"], check=True)
        subprocess.run([*psql, f"ALTER ROLE {user} PASSWORD '{password}'"], check=True)
        subprocess.run([*psql, f"CREATE DATABASE {database} OWNER {user}"], check=True)

        # Redis as the Deployment runs it: requirepass from Secret redis-credentials.
        redis_port = spare_port()
        redis_password = container_env(docs, "redis")["REDIS_PASSWORD"]
        redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                                  "--appendonly", "no", "--requirepass", redis_password], stdout=subprocess.DEVNULL)
        checks.check("redis with the Secret's requirepass", wait_redis(redis_port, redis_password))
        refused = subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True, text=True)
        checks.check("redis refuses a client without the password", "NOAUTH" in refused.stdout + refused.stderr, refused.stdout)

        api_port, api_metrics, web_port, web_metrics = spare_port(), spare_port(), spare_port(), spare_port()
        api_env = dict(api_env_k8s)
        api_env["API_BIND"] = bind(api_port)
        api_env["METRICS_BIND"] = bind(api_metrics)
        api_env["REDIS_URL"] = with_port(api_env["REDIS_URL"], redis_port)
        web_env = dict(web_env_k8s)
        web_env["WEB_BIND"] = bind(web_port)
        web_env["METRICS_BIND"] = bind(web_metrics)
        web_env["API_URL"] = with_port(web_env["API_URL"], api_port)

        # Values go through podman's environment (`-e NAME`), never its command line.
        def env_flags(env: dict[str, str]) -> list[str]:
            return [flag for key in sorted(env) for flag in ("-e", key)]

        def run_env(env: dict[str, str]) -> dict[str, str]:
            return {**os.environ, **env}

        # The initContainer: `banking-api migrate`, same image, env and confinement.
        migrate = podman("run", "--rm", *POD_FLAGS, *env_flags(api_env), "banking-api:dev", "migrate",
                         env=run_env(api_env), check_rc=False)
        checks.check("migrate initContainer exits 0", migrate.returncode == 0, migrate.stderr[-800:])
        tables = subprocess.run(["psql", PG_ADMIN.rsplit("/", 1)[0] + f"/{database}", "-Atc",
                                 f"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = '{user}'"],
                                capture_output=True, text=True).stdout.strip()
        checks.check(f"migrations created the tables, owned by {user}", tables.isdigit() and int(tables) >= 3, tables)

        api_name, web_name = f"banking-ct-api-{run_id}", f"banking-ct-web-{run_id}"
        for name, image, env in ((api_name, "banking-api:dev", api_env), (web_name, "banking-web:dev", web_env)):
            podman("run", "-d", "--name", name, *POD_FLAGS, *env_flags(env), image, env=run_env(env))
            names.append(name)

        api, web = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}"
        for label, base, deployment, name in (("api", api, "banking-backend", api_name),
                                              ("web", web, "banking-frontend", web_name)):
            probes = probe_paths(docs, deployment)
            ready = wait_http(base + probes["readinessProbe"], timeout=60)
            checks.check(f"{label}: readiness probe {probes['readinessProbe']} answers 200", ready)
            for kind in ("startupProbe", "livenessProbe"):
                status, _ = get(base + probes[kind])
                checks.check(f"{label}: {kind} {probes[kind]} answers 200", status == 200, str(status))
            check_confinement(checks, label, name)
        status, body = get(api + "/health")
        checks.check("api: /health reports database and Redis (with its password) up", status == 200, f"{status} {body[:300]}")

        # Metrics: not on the public ports, Prometheus text on the metrics ports.
        for label, public, metrics in (("api", api, api_metrics), ("web", web, web_metrics)):
            status, _ = get(public + "/metrics")
            checks.check(f"{label}: /metrics on the public port answers 404", status == 404, str(status))
            status, body = get(f"http://127.0.0.1:{metrics}/metrics")
            checks.check(f"{label}: the metrics port serves Prometheus text",
                         status == 200 and re.search(r"^# (TYPE|HELP) \w+", body, re.M) is not None, f"{status} {body[:200]!r}")

        # Two customers (through the api, as /graphql of the Ingress), money for one of them.
        people = {}
        for who in ("ada", "ben"):
            body = gql(api, "mutation($i: SignupInput!) { signup(input: $i) { token user { accounts { id accountNumber } } } }",
                       {"i": {"username": f"{who}{run_id}", "password": "containers-pass-1", "email": f"{who}@example.com"}})
            s = (body.get("data") or {}).get("signup") or {}
            checks.check(f"sign up {who} through the api container", bool(s.get("token")), json.dumps(body)[:300])
            account = (s.get("user") or {}).get("accounts", [{}])[0]
            people[who] = (s.get("token"), account.get("id"), account.get("accountNumber"))
        ada, ben = people["ada"], people["ben"]
        body = gql(api, "mutation($i: DepositInput!) { deposit(input: $i) { id } }",
                   {"i": {"accountId": ada[1], "amount": "100.00", "idempotencyKey": f"ct-{run_id}"}}, ada[0])
        checks.check("deposit 100.00 for ada", "errors" not in body, json.dumps(body)[:300])

        # Through the web container: sign in with the form, transfer with the forms.
        browser = Browser(web)
        status, page = browser.get("/login")
        checks.check("web: sign-in page", status == 200 and "<form" in page, str(status))
        status, page, headers = browser.post("/login", {"username": f"ada{run_id}", "password": "containers-pass-1",
                                                        "csrf": hidden(page, "csrf")})
        checks.check("web: sign in with the form (CSRF token)", status in (302, 303), f"{status} {page[:300]}")
        status, page = browser.get("/")
        checks.check("web: dashboard shows ada's 100.00", status == 200 and "100.00" in page, f"{status} {page[:300]}")
        status, page = browser.get("/transfer")
        form = {"csrf": hidden(page, "csrf"), "key": hidden(page, "key"), "from": ada[1], "to": ben[2],
                "amount": "12.34", "description": "containers test"}
        status, page, _ = browser.post("/transfer", form)
        checks.check("web: transfer review page", status == 200 and "/transfer/confirm" in page, f"{status} {page[:300]}")
        confirm = {name: hidden(page, name) for name in ("csrf", "key", "from", "to", "amount", "description")}
        status, page, _ = browser.post("/transfer/confirm", confirm)
        checks.check("web: transfer confirmed", status == 200 and "12.34" in page, f"{status} {page[:400]}")

        def balance(token: str) -> str | None:
            body = gql(api, "{ accounts { balance } }", token=token)
            return ((body.get("data") or {}).get("accounts") or [{}])[0].get("balance")

        checks.check("ben received 12.34 (api)", balance(ben[0]) == "12.34", str(balance(ben[0])))
        checks.check("ada has 87.66 left (api)", balance(ada[0]) == "87.66", str(balance(ada[0])))
        status, page = browser.get("/")
        checks.check("web: dashboard shows ada's 87.66", status == 200 and "87.66" in page, f"{status} {page[:300]}")
    except Exception as err:  # a step that could not even run is a failure, with its reason
        checks.check("containers test ran to the end", False, f"{type(err).__name__}: {err}")
    finally:
        if checks.failed:
            for name in names:
                logs = podman("logs", "--tail", "30", name, check_rc=False)
                print(f"--- {name} logs\n{(logs.stdout + logs.stderr)[-3000:]}")
        for name in names:
            podman("rm", "--force", "--time", "5", name, check_rc=False)
        if redis:
            redis.terminate()
            redis.wait(timeout=10)
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=False)
        lock.close()
    print(checks.summary("containers"))
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
