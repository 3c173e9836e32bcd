#!/usr/bin/env python3
"""`just e2e`: the Kubernetes deployment as close as one machine allows.

Renders the minikube overlay and runs what it describes with local stand-ins: 2 api and 2
web processes (release builds) configured from the rendered ConfigMaps, Secrets and
Deployment env; the real PostgreSQL in place of the `postgres` Service, a Redis of its own
with the password of the rendered Secret `redis-credentials` in place of `redis`; and a real
nginx whose routes are generated from the rendered Ingress, plus one nginx upstream per
Service. Then, through nginx with `Host: banking.local`, it signs in,
transfers and checks balances on the api and on the web pages, kills one api process with
SIGKILL in the middle, and checks the flow goes on through the other.

Ends with a line `e2e: N passed, M failed`; exits non-zero on any failure."""

import base64
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import yaml

from support import ROOT, Checks, GraphQLWebSocket, NoRedirect, cargo_target_dir, proc_field, spare_port, stop_processes, wait_http

TARGET = cargo_target_dir()
RELEASE = TARGET / "release"
PG_HOST = os.environ.get("E2E_PG_HOST", "127.0.0.1:5432")
INGRESS_PORT = 18480


def render():
    out = subprocess.run(["kubectl", "kustomize", str(ROOT / "kustomize/overlays/minikube")],
                         check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def wait_redis(port, password, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True,
                              env={**os.environ, "REDISCLI_AUTH": password})
        if "PONG" in done.stdout:
            return True
        time.sleep(0.1)
    return False


def find(docs, kind, prefix):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(prefix))


def container_env(docs, deployment):
    """The env a container of this Deployment gets: envFrom ConfigMaps/Secrets, then env."""
    dep = find(docs, "Deployment", deployment)
    container = dep["spec"]["template"]["spec"]["containers"][0]
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            secret = find(docs, "Secret", source["secretRef"]["name"])
            env.update({k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "valueFrom" in item:
            ref = item["valueFrom"].get("secretKeyRef") or item["valueFrom"].get("configMapKeyRef")
            kind = "Secret" if "secretKeyRef" in item["valueFrom"] else "ConfigMap"
            doc = find(docs, kind, ref["name"])
            value = doc["data"][ref["key"]]
            env[item["name"]] = base64.b64decode(value).decode() if kind == "Secret" else value
    return env


def local(value, services):
    """Cluster DNS names become the local stand-ins."""
    for name, address in services.items():
        value = re.sub(rf"(?<=[/@]){re.escape(name)}(:\d+)?(?=[/:]|$)", address, value)
    return value


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:
        return None


def small_pages_only(pid):
    """Whether the kernel holds the process to small pages: both binaries turn transparent
    huge pages off first thing (banking_common::memory); /proc shows it as THP_enabled 0."""
    return proc_field(pid, "status", "THP_enabled") == "0"


def metrics_text(port):
    """The metrics port answers Prometheus text."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.status == 200 and "_http_requests_total" in r.read().decode()
    except Exception:
        return False


class Client:
    """HTTP through the Ingress, as a browser or an app would reach banking.local."""

    def __init__(self, host):
        self.host = host
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, method, path, body=None, headers=None, form=False):
        data = None
        req_headers = {"Host": self.host, **(headers or {})}
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            req_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            req_headers["Content-Type"] = "application/json"
        req = urllib.request.Request(f"http://127.0.0.1:{INGRESS_PORT}{path}", data=data, method=method, headers=req_headers)
        try:
            with self.opener.open(req, timeout=15) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def gql(self, query, variables=None, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, body, _ = self.request("POST", "/graphql", {"query": query, "variables": variables or {}}, headers)
        return status, json.loads(body) if body.startswith("{") else {"raw": body}


import urllib.parse  # noqa: E402



def main():
    checks = Checks()
    for tool in ["nginx", "kubectl", "psql"]:
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is missing (apt-get install nginx postgresql-client; kubectl)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "api", "-p", "web", "--bins"], cwd=ROOT, check=True)
    docs = render()
    ingress = find(docs, "Ingress", "banking")
    rule = ingress["spec"]["rules"][0]
    host = rule["host"]

    work = Path(tempfile.mkdtemp(prefix="banking-e2e-"))
    procs = []
    db = f"banking_e2e_{uuid.uuid4().hex[:8]}"
    try:
        # The database the StatefulSet would hold, with the role the ConfigMap names.
        api_env_k8s = container_env(docs, "banking-backend")
        user = re.match(r"postgres://([^@:]+)@", api_env_k8s["DATABASE_URL"]).group(1)
        admin = f"postgres://postgres@{PG_HOST}/postgres"
        subprocess.run(["psql", admin, "-qc", f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE {user} LOGIN; END IF; END$$"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {db} OWNER {user}"], check=True)

        # Redis as the Deployment runs it: requirepass from the Secret the api also reads.
        redis_port = spare_port()
        redis_password = container_env(docs, "redis")["REDIS_PASSWORD"]
        redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                                  "--appendonly", "no", "--requirepass", redis_password], stdout=subprocess.DEVNULL)
        procs.append(redis)
        checks.check("redis with requirepass", wait_redis(redis_port, redis_password))

        # Services: one nginx upstream each, listening locally, in front of the "pods".
        api_ports = [spare_port(), spare_port()]
        web_ports = [spare_port(), spare_port()]
        # Each "pod" scrapes on a metrics port of its own (METRICS_BIND), never the public one.
        metrics_ports = {port: spare_port() for port in api_ports + web_ports}
        service_ports = {"banking-backend": spare_port(), "banking-frontend": spare_port()}
        services = {"postgres": PG_HOST, "redis": f"127.0.0.1:{redis_port}",
                    **{name: f"127.0.0.1:{port}" for name, port in service_ports.items()}}

        api_env = {**os.environ, **{k: local(v, services) for k, v in api_env_k8s.items()}}
        api_env["DATABASE_URL"] = api_env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{db}"
        api_env["REDIS_KEY_PREFIX"] = f"e2e:{db}:"
        api_env["LOG_LEVEL"] = "warn"
        web_env = {**os.environ, **{k: local(v, services) for k, v in container_env(docs, "banking-frontend").items()}, "LOG_LEVEL": "warn"}

        # Migrations once, as the initContainer does (under the advisory lock).
        subprocess.run([RELEASE / "banking-api", "migrate"], env=api_env, check=True)
        apis = []
        for port in api_ports:
            p = subprocess.Popen([RELEASE / "banking-api"], env={**api_env, "API_BIND": f"127.0.0.1:{port}",
                                                                 "METRICS_BIND": f"127.0.0.1:{metrics_ports[port]}"})
            procs.append(p)
            apis.append(p)
        webs = []
        for port in web_ports:
            webs.append(subprocess.Popen([RELEASE / "banking-web"], env={**web_env, "WEB_BIND": f"127.0.0.1:{port}",
                                                                         "METRICS_BIND": f"127.0.0.1:{metrics_ports[port]}"}))
            procs.append(webs[-1])
        for port in api_ports:
            checks.check(f"api on {port} ready", wait_http(f"http://127.0.0.1:{port}/ready"))
        for port in web_ports:
            checks.check(f"web on {port} ready", wait_http(f"http://127.0.0.1:{port}/healthz"))
        for port in api_ports + web_ports:
            checks.check(f"/metrics on {port}'s metrics port", metrics_text(metrics_ports[port]))
            checks.check(f"no /metrics on the public port {port}", status_of(f"http://127.0.0.1:{port}/metrics") == 404)
        for port, p in zip(api_ports + web_ports, apis + webs):
            checks.check(f"{port} runs on small pages only (no transparent huge pages)", small_pages_only(p.pid))

        # nginx: the Ingress rules, and the Services as upstreams.
        backends = {"banking-backend": api_ports, "banking-frontend": web_ports}
        upstreams = "\n".join(
            f"  upstream {name} {{\n" + "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in backends[name]) + "  }\n"
            f"  server {{ listen 127.0.0.1:{service_ports[name]}; location / {{ proxy_pass http://{name}; proxy_next_upstream error timeout http_502; }} }}"
            for name in backends)
        locations = []
        annotations = ingress["metadata"].get("annotations", {})
        read_timeout = annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")
        send_timeout = annotations.get("nginx.ingress.kubernetes.io/proxy-send-timeout", "60")
        for path in sorted(rule["http"]["paths"], key=lambda p: -len(p["path"])):
            service = path["backend"]["service"]["name"]
            prefix = path["path"]
            match = f"location {prefix}" if prefix == "/" else f"location ~ ^{re.escape(prefix)}(/|$)"
            # As ingress-nginx does: HTTP/1.1 to the upstream with the client's Upgrade and
            # Connection (WebSockets), and the Ingress's read/send timeouts (long-lived
            # subscriptions and event streams).
            locations.append(f"    {match} {{ proxy_pass http://{service}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; "
                             f"proxy_read_timeout {read_timeout}s; proxy_send_timeout {send_timeout}s; "
                             f"proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; proxy_next_upstream error timeout http_502; }}")
        body_size = annotations.get("nginx.ingress.kubernetes.io/proxy-body-size", "1m")
        conf = f"""
worker_processes 1;
error_log {work}/error.log warn;
pid {work}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log {work}/access.log;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  client_max_body_size {body_size};
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
{upstreams}
  server {{
    listen 127.0.0.1:{INGRESS_PORT};
    server_name {host};
{chr(10).join(locations)}
  }}
  server {{ listen 127.0.0.1:{INGRESS_PORT} default_server; return 404; }}
}}
"""
        (work / "nginx.conf").write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        procs.append(subprocess.Popen([nginx, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"]))
        checks.check("nginx routes / to the web", wait_http(f"http://127.0.0.1:{INGRESS_PORT}/healthz", host=host))

        client = Client(host)
        status, _, _ = Client("elsewhere.example").request("GET", "/")
        checks.check("another Host is not routed", status == 404, str(status))

        # Two customers through the api routes of the Ingress.
        people = {}
        for name in ["erin", "frank"]:
            status, body = client.gql("mutation($i: SignupInput!) { signup(input: $i) { token user { accounts { id accountNumber } } } }",
                                      {"i": {"username": name, "password": "e2e-password-1", "email": f"{name}@example.com"}})
            s = body.get("data", {}).get("signup") or {}
            checks.check(f"sign up {name} via /graphql", status == 200 and "token" in s, json.dumps(body)[:300])
            people[name] = (s.get("token"), s["user"]["accounts"][0]["id"], s["user"]["accounts"][0]["accountNumber"])
        erin, frank = people["erin"], people["frank"]
        status, body = client.gql("mutation($i: DepositInput!) { deposit(input: $i) { id } }",
                                  {"i": {"accountId": erin[1], "amount": "100.00", "idempotencyKey": "e2e-deposit"}}, erin[0])
        checks.check("deposit", status == 200 and "errors" not in body, json.dumps(body)[:300])
        status, body, _ = client.request("POST", "/api/auth/login", {"username": "erin", "password": "e2e-password-1"})
        checks.check("REST sign-in via /api", status == 200 and "access_token" in body, body[:200])
        rest_token = json.loads(body)["access_token"] if status == 200 else erin[0]

        def transfer(key, amount="1.00"):
            return client.gql("mutation($i: TransferInput!) { transfer(input: $i) { id } }",
                              {"i": {"fromAccountId": erin[1], "toAccountNumber": frank[2], "amount": amount, "idempotencyKey": key}}, rest_token)

        # A subscription through nginx (WebSocket upgrade on /graphql/ws): frank hears
        # erin's transfer, whichever api replica nginx sent either to.
        try:
            ws = GraphQLWebSocket(INGRESS_PORT, host, "/graphql/ws")
            ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {frank[0]}"}})
            acked = ws.receive(5).get("type") == "connection_ack"
            checks.check("subscription handshake through nginx", acked)
            ws.send({"id": "1", "type": "subscribe", "payload": {"query": "subscription { accountUpdated { account { balance } transaction { amount } } }"}})
            ws.send({"type": "ping"})
            ws.receive(5)  # the pong: the subscribe was read first
            started = time.monotonic()
            status, body = transfer("e2e-live", "0.50")
            message = ws.receive(5)
            update = (message.get("payload") or {}).get("data", {}).get("accountUpdated", {})
            checks.check("subscription event through nginx", update.get("transaction", {}).get("amount") == "0.50",
                         f"{json.dumps(message)[:300]} after {time.monotonic() - started:.2f}s")
            ws.close()
        except (OSError, ValueError) as e:
            checks.check("subscription through nginx", False, repr(e))

        ok = 0
        for n in range(10):
            status, body = transfer(f"e2e-{n}")
            ok += status == 200 and "errors" not in body
        checks.check("10 transfers before the kill", ok == 10, str(ok))

        # One api "pod" dies; the Service (nginx upstream) sends everything to the other.
        apis[0].send_signal(signal.SIGKILL)
        apis[0].wait()
        ok = 0
        for n in range(10, 30):
            status, body = transfer(f"e2e-{n}")
            ok += status == 200 and "errors" not in body
        checks.check("20 transfers after one api was killed", ok == 20, str(ok))

        def balance(token):
            status, body = client.gql("{ accounts { balance } }", token=token)
            return body.get("data", {}).get("accounts", [{}])[0].get("balance")

        checks.check("erin's balance through nginx", balance(erin[0]) == "69.50", str(balance(erin[0])))
        checks.check("frank's balance through nginx", balance(frank[0]) == "30.50", str(balance(frank[0])))

        # The web pages through the Ingress: sign in with the form, see the dashboard.
        status, page, _ = client.request("GET", "/login")
        checks.check("sign-in page via /", status == 200 and "<form" in page, str(status))
        csrf = re.search(r'name="csrf"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf"', page)
        token = next((g for g in csrf.groups() if g), "") if csrf else ""
        status, _, headers = client.request("POST", "/login", {"username": "frank", "password": "e2e-password-1", "csrf": token}, form=True)
        checks.check("sign in with the form", status in (302, 303), str(status))
        status, page, _ = client.request("GET", "/")
        checks.check("dashboard shows frank's balance", status == 200 and "30.50" in page, page[:300] if status != 200 else "30.50 not on the page")
        status, body, _ = client.request("GET", "/api/accounts", headers={"Authorization": f"Bearer {frank[0]}"})
        checks.check("REST accounts via /api", status == 200 and "30.50" in body, body[:200])
    finally:
        stop_processes(procs)
        subprocess.run(["psql", f"postgres://postgres@{PG_HOST}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"], check=False)
        if checks.failed:
            for log in ["error.log"]:
                path = work / log
                if path.exists():
                    print(path.read_text()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print(checks.summary("e2e"))
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
