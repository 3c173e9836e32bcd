#!/usr/bin/env python3
"""scripts/minikube-up.sh against stand-ins for `minikube`, `kubectl` and `uname` on PATH.

No cluster can run here, so the script's decisions are tested instead: stand-in executables
record every call and behave like the real tools where the script depends on it:

- `minikube image build` packs the context honouring .dockerignore (which lists the
  Dockerfile) and only adds the Dockerfile back when given `-f`; it needs the `--target` stage
  to exist in that Dockerfile; and, like the real one (minikube issues #16576, #12556), it
  exits 0 when the build fails, producing no image.
- `minikube image ls/tag/rm` work on the images the builds produced.
- `kubectl apply -k` renders the overlay with the real `kubectl kustomize`; `kubectl rollout
  status` of an app Deployment fails when its image is not in the runtime (imagePullPolicy
  Never: ErrImageNeverPull) and of the ingress controller when the addon is not enabled.

Cases: the happy path (start, addon, both builds, apply, every rollout, Linux hosts line);
a build that "succeeds" without an image stops before applying and names the image, also
when an older :dev image is still there; a failing build command stops; a failed apply is
retried; a running deployment is restarted; the hosts instructions for macOS, Windows, WSL.

Ends with `minikube-up: N passed, M failed`; exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from support import ROOT, Checks

SCRIPT = ROOT / "scripts" / "minikube-up.sh"

# --- the stand-ins -------------------------------------------------------------------------
# Written as Python, run with this interpreter. State lives in $FAKE_STATE: `calls` (one JSON
# list per call: the tool, then its arguments), `images` (one name:tag a line), flags.

COMMON = r'''
import json, os, re, subprocess, sys
from pathlib import Path
STATE = Path(os.environ["FAKE_STATE"])

def log(tool, args):
    with open(STATE / "calls", "a") as f:
        f.write(json.dumps([tool, *args]) + "\n")

def images():
    p = STATE / "images"
    return [l for l in p.read_text().splitlines() if l] if p.exists() else []

def set_images(names):
    (STATE / "images").write_text("".join(n + "\n" for n in names))

def flag(name):
    return (STATE / name).exists()

def take(args, *names):
    """Remove `--name value` / `--name=value` pairs; return (rest, {name: value})."""
    rest, found, i = [], {}, 0
    while i < len(args):
        a = args[i]
        hit = next((n for n in names if a == n or a.startswith(n + "=")), None)
        if hit and a == hit:
            found[hit] = args[i + 1]; i += 2; continue
        if hit:
            found[hit] = a.split("=", 1)[1]; i += 1; continue
        rest.append(a); i += 1
    return rest, found
'''

FAKE_MINIKUBE = COMMON + r'''
args, opts = take(sys.argv[1:], "--profile", "-p")
log("minikube", sys.argv[1:])
cmd = args[:2]
if args[:1] == ["status"]:
    sys.exit(0 if flag("running") else 7)
if args[:1] == ["start"]:
    (STATE / "running").touch(); sys.exit(0)
if args[:1] == ["ip"]:
    print("192.168.49.2"); sys.exit(0)
if args[:3] == ["addons", "enable", "ingress"]:
    (STATE / "ingress").touch(); sys.exit(0)
if cmd == ["image", "ls"]:
    for name in images():
        print("docker.io/library/" + name)
    sys.exit(0)
if cmd == ["image", "tag"]:
    src, dst = args[2], args[3]
    if src not in images():
        print(f"Error: no such image {src}", file=sys.stderr); sys.exit(1)
    set_images([i for i in images() if i != dst] + [dst]); sys.exit(0)
if cmd == ["image", "rm"]:
    set_images([i for i in images() if i not in args[2:]]); sys.exit(0)
if cmd == ["image", "build"]:
    rest, o = take(args[2:], "-f", "--file", "-t", "--tag", "--build-opt", "--build-env")
    tag, target = o.get("-t") or o.get("--tag"), (o.get("--build-opt") or "").removeprefix("target=")
    context = Path(rest[0])
    if os.environ.get("FAKE_BUILD_EXIT"):
        print("Error: build command failed", file=sys.stderr); sys.exit(int(os.environ["FAKE_BUILD_EXIT"]))
    ignore = (context / ".dockerignore").read_text().split() if (context / ".dockerignore").exists() else []
    given = o.get("-f") or o.get("--file")
    dockerfile = Path(given) if given else (None if "Dockerfile" in ignore else context / "Dockerfile")
    # What minikube does on a failed build: print the builder's error, exit 0.
    if dockerfile is None or not dockerfile.exists():
        print("unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
              "lstat /var/lib/minikube/build/build.1/Dockerfile: no such file or directory", file=sys.stderr)
        sys.exit(0)
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile.read_text(), re.M | re.I)
    if target not in stages:
        print(f"failed to reach build target {target} in Dockerfile", file=sys.stderr); sys.exit(0)
    if target in os.environ.get("FAKE_BROKEN_BUILD", "").split(","):
        print("error: could not compile `api`", file=sys.stderr); sys.exit(0)
    set_images([i for i in images() if i != tag] + [tag]); sys.exit(0)
print("stand-in minikube: unexpected call " + " ".join(sys.argv[1:]), file=sys.stderr)
sys.exit(64)
'''

FAKE_KUBECTL = COMMON + r'''
args, opts = take(sys.argv[1:], "--context", "-n", "--namespace", "--timeout", "--output", "-o")
log("kubectl", sys.argv[1:])
if args[:1] == ["apply"] and args[1:2] == ["-k"]:
    failures = int(os.environ.get("FAKE_APPLY_FAILURES", "0"))
    done = len(list((STATE).glob("apply-failed-*")))
    if done < failures:
        (STATE / f"apply-failed-{done}").touch()
        print('Error from server (InternalError): failed calling webhook "validate.nginx.ingress.kubernetes.io"',
              file=sys.stderr)
        sys.exit(1)
    out = subprocess.run([os.environ["REAL_KUBECTL"], "kustomize", args[2]], capture_output=True, text=True)
    if out.returncode:
        print(out.stderr, file=sys.stderr); sys.exit(1)
    (STATE / "rendered.yaml").write_text(out.stdout)
    (STATE / "applied").touch()
    print("applied"); sys.exit(0)
if args[:2] == ["rollout", "status"]:
    what = args[2]
    if what == "deployment/ingress-nginx-controller":
        sys.exit(0 if flag("ingress") else 1)
    if not flag("applied"):
        print(f"Error from server (NotFound): {what} not found", file=sys.stderr); sys.exit(1)
    need = {"deployment/banking-backend": "banking-api:dev", "deployment/banking-frontend": "banking-web:dev"}
    if what in need and need[what] not in images():
        print(f"error: timed out waiting for the condition (ErrImageNeverPull {need[what]})", file=sys.stderr)
        sys.exit(1)
    print(f'{what} successfully rolled out'); sys.exit(0)
if args[:2] == ["rollout", "restart"]:
    sys.exit(0)
if args[:3] == ["get", "deployment", "banking-backend"]:
    if flag("existing"):
        print("deployment.apps/banking-backend")
    sys.exit(0)
print("stand-in kubectl: unexpected call " + " ".join(sys.argv[1:]), file=sys.stderr)
sys.exit(64)
'''

FAKE_UNAME = r'''
import os, sys
print(os.environ.get("FAKE_UNAME", "Linux"))
'''


class Run:
    def __init__(self, code: int, out: str, err: str, calls: list[list[str]], state: Path):
        self.code, self.out, self.err, self.calls, self.state = code, out, err, calls, state

    def index(self, tool: str, *prefix: str) -> int | None:
        """Position of the first call of `tool` whose arguments, without --context/--profile/-p
        and their values, start with `prefix`."""
        for i, call in enumerate(self.calls):
            if call[0] != tool:
                continue
            args, rest = [], iter(call[1:])
            for a in rest:
                if a in ("--context", "--profile", "-p"):
                    next(rest, None)
                else:
                    args.append(a)
            if args[:len(prefix)] == list(prefix):
                return i
        return None

    def has(self, tool: str, *prefix: str) -> bool:
        return self.index(tool, *prefix) is not None


def run(real_kubectl: str, *, running=False, images=(), existing=False, env=None) -> Run:
    work = Path(tempfile.mkdtemp(prefix="minikube-up-test-"))
    try:
        bin_dir, state = work / "bin", work / "state"
        bin_dir.mkdir()
        state.mkdir()
        for name, body in (("minikube", FAKE_MINIKUBE), ("kubectl", FAKE_KUBECTL), ("uname", FAKE_UNAME)):
            path = bin_dir / name
            path.write_text(f"#!{sys.executable}\n{body}")
            path.chmod(0o755)
        if running:
            (state / "running").touch()
        if existing:
            (state / "existing").touch()
        (state / "images").write_text("".join(f"{i}\n" for i in images))
        full_env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_STATE": str(state),
                    "REAL_KUBECTL": real_kubectl, "MINIKUBE_UP_RETRY_SECONDS": "0", **(env or {})}
        done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=full_env, timeout=120)
        calls = [json.loads(line) for line in (state / "calls").read_text().splitlines()] \
            if (state / "calls").exists() else []
        result = Run(done.returncode, done.stdout, done.stderr, calls, state)
        result.rendered = (state / "rendered.yaml").read_text() if (state / "rendered.yaml").exists() else ""
        result.images = (state / "images").read_text().split()
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def show(r: Run) -> str:
    return f"exit {r.code}; stderr: {r.err.strip()[-400:]!r}; calls: {[' '.join(c) for c in r.calls][-6:]}"


def main() -> int:
    real_kubectl = shutil.which("kubectl")
    if not real_kubectl:
        print("minikube-up-test: kubectl (for `kubectl kustomize`) is missing", file=sys.stderr)
        return 2
    checks = Checks()

    # 1. The happy path from a stopped cluster.
    r = run(real_kubectl)
    checks.check("happy path exits 0", r.code == 0, show(r))
    start = next((c for c in r.calls if c[0] == "minikube" and "start" in c), [])
    checks.check("starts minikube with calico and 6g", "--cni" in start and "calico" in start and "6g" in start, str(start))
    checks.check("enables the ingress addon", r.has("minikube", "addons", "enable", "ingress"), show(r))
    builds = [c for c in r.calls if c[0] == "minikube" and "build" in c]
    checks.check("builds both images with -f Dockerfile", len(builds) == 2 and all("-f" in c and "Dockerfile" in c for c in builds),
                 str(builds))
    checks.check("both :dev images in the runtime", {"banking-api:dev", "banking-web:dev"} <= set(r.images), str(r.images))
    checks.check("the build tags are removed again", not [i for i in r.images if ":build-" in i], str(r.images))
    apply = r.index("kubectl", "apply", "-k", "kustomize/overlays/minikube")
    waited_ingress = r.index("kubectl", "-n", "ingress-nginx", "rollout", "status", "deployment/ingress-nginx-controller")
    last_build = max(i for i, c in enumerate(r.calls) if c[0] == "minikube" and "build" in c) if builds else None
    checks.check("applies the minikube overlay after the builds and the ingress controller",
                 apply is not None and waited_ingress is not None and last_build is not None
                 and last_build < waited_ingress < apply, show(r))
    rollouts = [c[-2] if c[-1].startswith("--timeout") else c[-1] for c in r.calls
                if c[0] == "kubectl" and "rollout" in c and "status" in c and "banking-app" in c]
    checks.check("waits for every rollout after applying",
                 rollouts == ["statefulset/postgres", "deployment/redis", "deployment/banking-backend", "deployment/banking-frontend"]
                 and all(i > (apply or 0) for i, c in enumerate(r.calls) if "banking-app" in c and "status" in c), str(rollouts))
    checks.check("the applied overlay never pulls the :dev images",
                 r.rendered.count("imagePullPolicy: Never") == 3 and "banking-api:dev" in r.rendered, "")
    checks.check("no restart on a first deploy", not r.has("kubectl", "-n", "banking-app", "rollout", "restart"), show(r))
    checks.check("Linux: the minikube ip goes to /etc/hosts", "192.168.49.2 banking.local" in r.out and "/etc/hosts" in r.out, r.out[-400:])

    # 2. The build "succeeds" without an image: stop before applying, naming it.
    for broken, image in (("web", "banking-web:dev"), ("api", "banking-api:dev")):
        r = run(real_kubectl, running=True, env={"FAKE_BROKEN_BUILD": broken})
        err_lines = [line for line in r.err.splitlines() if line.startswith("minikube-up:")]
        checks.check(f"silent failed build of {broken}: stops", r.code != 0, show(r))
        checks.check(f"silent failed build of {broken}: never applies", not r.has("kubectl", "apply"), show(r))
        checks.check(f"silent failed build of {broken}: one line naming {image}",
                     len(err_lines) == 1 and image in err_lines[0] and "run" in err_lines[0], r.err[-500:])

    # 3. The same with an older :dev image still in the runtime: it must not pass for the new one.
    r = run(real_kubectl, running=True, images=("banking-api:dev", "banking-web:dev"), env={"FAKE_BROKEN_BUILD": "api"})
    checks.check("silent failed build beside an old image: stops before applying",
                 r.code != 0 and not r.has("kubectl", "apply") and "banking-api:dev" in r.err, show(r))

    # 4. Without -f the Dockerfile would not reach the builder: the stand-in proves the script
    #    depends on it by failing the same silent way (checked through the .dockerignore).
    checks.check(".dockerignore still lists the Dockerfile (why -f is needed)",
                 "Dockerfile" in (ROOT / ".dockerignore").read_text().split(), "")

    # 5. A build command that exits non-zero stops the script (set -e).
    r = run(real_kubectl, running=True, env={"FAKE_BUILD_EXIT": "1"})
    checks.check("failing build command: stops before applying", r.code != 0 and not r.has("kubectl", "apply"), show(r))

    # 6. The admission webhook refuses the first apply: retried, then deployed.
    r = run(real_kubectl, running=True, env={"FAKE_APPLY_FAILURES": "2"})
    applies = [c for c in r.calls if c[0] == "kubectl" and "apply" in c]
    checks.check("apply retried after webhook errors", r.code == 0 and len(applies) == 3, show(r))
    r = run(real_kubectl, running=True, env={"FAKE_APPLY_FAILURES": "9"})
    checks.check("apply failing every time: stops with one line",
                 r.code != 0 and "kubectl apply -k kustomize/overlays/minikube kept failing" in r.err
                 and not any("rollout" in c and "banking-app" in c for c in r.calls), show(r))

    # 7. A deployment already running: the rebuilt :dev images are rolled out.
    r = run(real_kubectl, running=True, existing=True)
    checks.check("existing deployment: rollout restart after apply",
                 r.code == 0 and (r.index("kubectl", "-n", "banking-app", "rollout", "restart") or 0)
                 > (r.index("kubectl", "apply", "-k", "kustomize/overlays/minikube") or 1 << 30), show(r))
    checks.check("running cluster: not started again", not any(c[0] == "minikube" and "start" in c for c in r.calls), show(r))

    # 8. The hosts instructions per operating system.
    r = run(real_kubectl, running=True, env={"FAKE_UNAME": "Darwin"})
    checks.check("macOS: tunnel, 127.0.0.1, the .local delay",
                 r.code == 0 and "minikube -p minikube tunnel" in r.out and "127.0.0.1 banking.local" in r.out
                 and "mDNS" in r.out and "192.168.49.2" not in r.out, r.out[-600:])
    r = run(real_kubectl, running=True, env={"FAKE_UNAME": "MINGW64_NT-10.0-19045"})
    checks.check("Windows: tunnel, 127.0.0.1 in the Windows hosts file",
                 r.code == 0 and "tunnel" in r.out and "C:\\Windows\\System32\\drivers\\etc\\hosts" in r.out
                 and "127.0.0.1 banking.local" in r.out and "192.168.49.2" not in r.out, r.out[-600:])

    print(checks.summary("minikube-up"))
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
