#!/usr/bin/env python3
"""Run the production overlay's Redis with Sentinel on one machine and make it fail over.

    sudo python3 scripts/redis-sentinel-test.py

Renders kustomize/overlays/production and runs its StatefulSets redis (3 data nodes) and
redis-sentinel (3 Sentinels) as the pods would: each pod in a network namespace of its own
(joined by a bridge in another namespace: nothing touches the host's network, the host's own
Redis included), with its pod name as hostname, the cluster DNS names of the headless
Services in its /etc/hosts, the rendered ConfigMaps mounted where the pod mounts them, an
empty /data, and the container's command and environment as rendered (Secrets replaced by a
test password). Then:

- all six start at once (podManagementPolicy Parallel): every Sentinel monitors redis-0, the
  other two replicate it, the quorum is reachable, replicas refuse writes, the Sentinels
  answer the api without a password;
- the master's pod is killed (its node is lost): the Sentinels promote a replica, agree on
  it, and the other replica follows it; a write every replica had confirmed survives;
- the old master's pod starts again: it asks the Sentinels and comes back as a replica of
  the new master, never as a second master;
- a Sentinel restarts with an empty config: it finds the current master from its peers;
- the master loses both replicas: it refuses writes (min-replicas-to-write), so a master cut
  off by a partition takes no writes that a failover would throw away.

Needs root (network namespaces, mounts), `ip`, `unshare`, redis-server and redis-cli 7;
without them it says `skipped: …` and exits 0. Prints `ok …` / `FAIL …` per check and ends
with `redis-sentinel: N passed, M failed`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import ROOT, Checks

try:
    import yaml
except ImportError:  # pragma: no cover
    print("redis-sentinel-test: PyYAML is missing: pip install PyYAML", file=sys.stderr)
    sys.exit(2)

OVERLAY = ROOT / "kustomize" / "overlays" / "production"
PASSWORD = "sentinel-test-password"
SUBNET = "10.99.0"
PREFIX = "rst"  # names of the network namespaces made here: rst-hub, rst-redis-0, …


def skip(why: str) -> None:
    print(f"skipped: {why}")
    sys.exit(0)


def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


class Pod:
    def __init__(self, name: str, workload: dict, ip: str, namespace: str, configmaps: dict, tmp: Path):
        self.name, self.ip, self.namespace = name, ip, namespace
        self.netns = f"{PREFIX}-{name}"
        spec = workload["spec"]["template"]["spec"]
        container = spec["containers"][0]
        self.env: dict[str, str] = {}
        for e in container.get("env", []):
            source = e.get("valueFrom") or {}
            if "secretKeyRef" in source:
                self.env[e["name"]] = PASSWORD
            elif "fieldRef" in source:
                assert source["fieldRef"]["fieldPath"] == "metadata.namespace", e
                self.env[e["name"]] = namespace
            else:
                self.env[e["name"]] = e.get("value", "")
        # Kubernetes expands $(VAR) in command and args from the container's env.
        words = container.get("command", []) + container.get("args", [])
        for var, value in self.env.items():
            words = [w.replace(f"$({var})", value) for w in words]
        self.command = words
        # ConfigMap volumes: copied to a directory of their own, mounted where the pod mounts them.
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        self.mounts: list[tuple[str, Path | None]] = []
        for m in container.get("volumeMounts", []):
            vol = volumes.get(m["name"])
            if vol and "configMap" in vol:
                src = tmp / f"{self.name}-{m['name']}"
                src.mkdir()
                for key, text in configmaps[vol["configMap"]["name"]].items():
                    (src / key).write_text(text)
                self.mounts.append((m["mountPath"], src))
            else:  # emptyDir or a PersistentVolumeClaim: an empty directory
                self.mounts.append((m["mountPath"], None))
        self.process: subprocess.Popen | None = None
        self.log = tmp / f"{self.name}.log"

    def start(self, bin_dir: Path) -> None:
        """The container's command in the pod's network namespace, under its own hostname and
        mounts. `ip netns exec`, `unshare` and `sh -c … exec` all exec: the process is the
        server itself."""
        setup = [f"hostname {shlex.quote(self.name)}"]
        for path, src in self.mounts:
            setup.append(f"mount -t tmpfs tmpfs {shlex.quote(path)}")
            if src is not None:
                setup.append(f"cp -r {shlex.quote(str(src))}/. {shlex.quote(path)}/")
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        script = "; ".join(setup) + f"; export PATH={shlex.quote(str(bin_dir))}:$PATH; " + \
            f"exec env {env} " + " ".join(shlex.quote(w) for w in self.command)
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--uts", "--mount", "--propagation", "private",
                 "sh", "-c", script], stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def cli(self, *args: str, port: int = 6379, password: bool = True) -> str:
        auth = ["-a", PASSWORD, "--no-auth-warning"] if password else []
        done = run("ip", "netns", "exec", self.netns, "redis-cli", "-p", str(port), *auth, "--raw", *args, check=False)
        return (done.stdout + done.stderr).strip()


class Cluster:
    """The network: a bridge in namespace rst-hub, one namespace per pod, /etc/netns hosts files."""

    def __init__(self, pods: list[Pod], names: dict[str, str]):
        self.pods, self.names = pods, names
        self.made_mountpoints: list[Path] = []

    def __enter__(self) -> "Cluster":
        try:
            run("ip", "netns", "add", f"{PREFIX}-hub")
            run("ip", "netns", "exec", f"{PREFIX}-hub", "ip", "link", "add", "br0", "type", "bridge")
            run("ip", "netns", "exec", f"{PREFIX}-hub", "ip", "link", "set", "br0", "up")
            hosts = "127.0.0.1 localhost\n" + "".join(f"{p.ip} {self.names[p.name]}\n" for p in self.pods)
            for i, pod in enumerate(self.pods):
                run("ip", "netns", "add", pod.netns)
                run("ip", "link", "add", f"{PREFIX}h{i}", "netns", f"{PREFIX}-hub", "type", "veth",
                    "peer", "name", "eth0", "netns", pod.netns)
                run("ip", "netns", "exec", f"{PREFIX}-hub", "ip", "link", "set", f"{PREFIX}h{i}", "master", "br0")
                run("ip", "netns", "exec", f"{PREFIX}-hub", "ip", "link", "set", f"{PREFIX}h{i}", "up")
                run("ip", "netns", "exec", pod.netns, "ip", "addr", "add", f"{pod.ip}/24", "dev", "eth0")
                run("ip", "netns", "exec", pod.netns, "ip", "link", "set", "eth0", "up")
                run("ip", "netns", "exec", pod.netns, "ip", "link", "set", "lo", "up")
                etc = Path("/etc/netns") / pod.netns
                etc.mkdir(parents=True, exist_ok=True)
                (etc / "hosts").write_text(hosts)
                # tmpfs needs a mount point: the pod's paths that the host lacks (e.g. /data) are
                # made here and removed afterwards.
                for path, _ in pod.mounts:
                    p = Path(path)
                    if not p.exists():
                        p.mkdir(parents=True)
                        self.made_mountpoints.append(p)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        for pod in self.pods:
            pod.stop()
        for pod in self.pods:
            run("ip", "netns", "del", pod.netns, check=False)
            shutil.rmtree(Path("/etc/netns") / pod.netns, ignore_errors=True)
        run("ip", "netns", "del", f"{PREFIX}-hub", check=False)
        try:
            Path("/etc/netns").rmdir()
        except OSError:
            pass
        for p in reversed(self.made_mountpoints):
            try:
                p.rmdir()
            except OSError:
                pass


def wait_for(what, timeout: float, poll: float = 0.5):
    """`what()` once it is truthy, or its last value after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        value = what()
        if value or time.time() > deadline:
            return value
        time.sleep(poll)


def main() -> int:
    if os.geteuid() != 0:
        skip("needs root for network namespaces and mounts")
    for tool in ("ip", "unshare", "redis-server", "redis-cli", "kubectl"):
        if not shutil.which(tool):
            if os.environ.get("CI"):
                # scripts/test installs these; in CI a missing one is a failure, not a pass.
                print(f"FAIL {tool} not found (scripts/test installs it)")
                return 1
            skip(f"{tool} not found")
    probe = run("ip", "netns", "add", f"{PREFIX}-probe", check=False)
    if probe.returncode != 0:
        skip(f"cannot make network namespaces: {probe.stderr.strip()}")
    run("ip", "netns", "del", f"{PREFIX}-probe", check=False)

    rendered = run("kubectl", "kustomize", str(OVERLAY)).stdout
    objs = [o for o in yaml.safe_load_all(rendered) if o]
    sets = {o["metadata"]["name"]: o for o in objs if o["kind"] == "StatefulSet"}
    configmaps = {o["metadata"]["name"]: o.get("data") or {} for o in objs if o["kind"] == "ConfigMap"}
    backend = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("backend-config"))
    namespace = sets["redis"]["metadata"]["namespace"]
    master_name = backend["data"]["REDIS_SENTINEL_MASTER"]

    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="redis-sentinel-test-") as tmp_name:
        tmp = Path(tmp_name)
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        # The redis image has redis-sentinel (= redis-server --sentinel); Debian's package may not.
        (bin_dir / "redis-sentinel").write_text('#!/bin/sh\nexec redis-server "$@" --sentinel\n')
        (bin_dir / "redis-sentinel").chmod(0o755)
        pods, names = [], {}
        for base, set_name in ((10, "redis"), (20, "redis-sentinel")):
            workload = sets[set_name]
            service = workload["spec"]["serviceName"]
            for i in range(workload["spec"]["replicas"]):
                pod = Pod(f"{set_name}-{i}", workload, f"{SUBNET}.{base + i}", namespace, configmaps, tmp)
                pods.append(pod)
                names[pod.name] = f"{pod.name}.{service}.{namespace}.svc.cluster.local {pod.name}.{service}"
        by_name = {p.name: p for p in pods}
        data = [p for p in pods if not p.name.startswith("redis-sentinel")]
        sentinels = [p for p in pods if p.name.startswith("redis-sentinel")]
        fqdn = {p.name: names[p.name].split()[0] for p in pods}

        def masters() -> set[str]:
            return {s.cli("SENTINEL", "get-master-addr-by-name", master_name, port=26379, password=False)
                    .splitlines()[0] if s.process else "" for s in sentinels if s.process}

        def role(pod: Pod) -> dict[str, str]:
            lines = pod.cli("INFO", "replication").splitlines()
            return dict(line.split(":", 1) for line in lines if ":" in line)

        def follows(pod: Pod, master: str) -> bool:
            r = role(pod)
            return r.get("role") == "slave" and r.get("master_host") == master and r.get("master_link_status") == "up"

        with Cluster(pods, names):
            for pod in pods:
                pod.start(bin_dir)
            first = fqdn["redis-0"]
            agreed = wait_for(lambda: masters() == {first}, 30)
            checks.check("fresh start: every Sentinel monitors redis-0", agreed, f"{masters()}")
            ok = wait_for(lambda: all(follows(p, first) for p in data[1:]), 30)
            checks.check("fresh start: redis-1 and redis-2 replicate redis-0", ok,
                         "; ".join(f"{p.name} {role(p)}" for p in data[1:]))
            quorum = wait_for(lambda: sentinels[1].cli("SENTINEL", "CKQUORUM", master_name, port=26379,
                                                       password=False).startswith("OK 3 usable"), 20)
            checks.check("three Sentinels see each other; the quorum is reachable", quorum,
                         sentinels[1].cli("SENTINEL", "CKQUORUM", master_name, port=26379, password=False))
            answer = sentinels[0].cli("SENTINEL", "get-master-addr-by-name", master_name, port=26379, password=False)
            checks.check("the api asks a Sentinel without a password and gets the master's stable name",
                         answer.splitlines() == [first, "6379"], answer)
            checks.check("a replica refuses writes", "READONLY" in data[1].cli("SET", "k", "v"),
                         data[1].cli("SET", "k", "v"))
            # Steady state: each Sentinel has learnt both replicas from the master's INFO (every
            # 10 s) and the other Sentinels from the hello channel. A failover led by a Sentinel
            # that does not know a replica yet leaves that replica on the old master until
            # Sentinel fixes it (failover-timeout): docs/kubernetes.md, "Failover".
            def known(s: Pod, what: str) -> set[str]:
                lines = s.cli("SENTINEL", what, master_name, port=26379, password=False).splitlines()
                return {lines[i + 1] for i, line in enumerate(lines[:-1]) if line == "name"}
            steady = wait_for(lambda: all(len(known(s, "replicas")) == 2 and len(known(s, "sentinels")) == 2
                                          for s in sentinels), 30)
            checks.check("every Sentinel knows both replicas and the two other Sentinels", steady,
                         "; ".join(f"{s.name}: {sorted(known(s, 'replicas'))}" for s in sentinels))
            data[0].cli("SET", "session:kept", "alive")
            acked = data[0].cli("WAIT", "2", "2000")
            checks.check("a write on the master is confirmed by both replicas (WAIT 2)", acked == "2", acked)

            # The master's node is lost.
            started = time.time()
            data[0].stop()
            moved = wait_for(lambda: (lambda m: len(m) == 1 and first not in m and "" not in m and m)(masters()), 40)
            took = time.time() - started
            new = next(iter(moved)) if moved else ""
            checks.check(f"master lost: every Sentinel agrees on a promoted replica ({took:.0f} s)", bool(moved),
                         f"{masters()}")
            new_pod = next((p for p in data if fqdn[p.name] == new), None)
            if new_pod:
                other = next(p for p in data[1:] if p is not new_pod)
                checks.check("the promoted replica is master", wait_for(lambda: role(new_pod).get("role") == "master", 15),
                             f"{role(new_pod)}")
                checks.check("the other replica follows the new master", wait_for(lambda: follows(other, new), 30),
                             f"{role(other)}")
                checks.check("a write both replicas had confirmed survives the failover",
                             new_pod.cli("GET", "session:kept") == "alive", new_pod.cli("GET", "session:kept"))
                wrote = new_pod.cli("SET", "after", "failover")
                checks.check("the new master takes writes (it has a replica: min-replicas-to-write)", wrote == "OK", wrote)

                # The old master's pod is rescheduled.
                data[0].start(bin_dir)
                checks.check("the old master comes back as a replica of the new one, not as a second master",
                             wait_for(lambda: follows(data[0], new), 30), f"{role(data[0])}")
                checks.check("it has the writes made after the failover",
                             wait_for(lambda: data[0].cli("GET", "after") == "failover", 15), data[0].cli("GET", "after"))

                # A Sentinel restarts with an empty configuration.
                restarted = sentinels[2]
                restarted.stop()
                restarted.start(bin_dir)
                found = wait_for(lambda: restarted.cli("SENTINEL", "get-master-addr-by-name", master_name,
                                                       port=26379, password=False).splitlines()[:1] == [new], 20)
                checks.check("a restarted Sentinel monitors the current master", found,
                             restarted.cli("SENTINEL", "get-master-addr-by-name", master_name, port=26379, password=False))

                # The master loses both replicas (a partition, two nodes lost).
                for p in data:
                    if p is not new_pod:
                        p.stop()
                refused = wait_for(lambda: "NOREPLICAS" in new_pod.cli("SET", "lonely", "1"), 20)
                checks.check("a master without replicas refuses writes (min-replicas-to-write)", refused,
                             new_pod.cli("SET", "lonely", "1"))
        if checks.failed:
            for pod in pods:
                print(f"--- {pod.name}\n{pod.log.read_text()[-3000:] if pod.log.exists() else ''}")
    print(checks.summary("redis-sentinel"))
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
