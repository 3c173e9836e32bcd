#!/usr/bin/env python3
"""`just bench`: release binaries, services, 10,000 seeded customers, each scenario under
wrk at a fixed concurrency after a warm-up, side by side with the machine's own limits
(pgbench tpcb-like on the same PostgreSQL, a trivial axum handler), written to
docs/benchmarks.md. Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (32),
BENCH_SCENARIOS (comma-separated subset)."""

import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/banking-target"))
RELEASE = TARGET / "release"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = 2
PG_ADMIN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BASE = PG_ADMIN.rsplit("/", 1)[0]
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
API, WEB, HELLO = 18000, 18080, 18099
KEY = "7f" * 32
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/banking-bench"))

SCENARIOS = [
    # name, target port, baseline, target ratio (None: report only)
    ("accounts-graphql", API, "hello", 0.35),
    ("accounts-rest", API, "hello", 0.35),
    ("me", API, "hello", None),
    ("transfer-graphql", API, "pgbench", 0.5),
    ("transfer-rest", API, "pgbench", 0.5),
    ("login", API, None, None),
    ("dashboard", WEB, "accounts-graphql", 0.3),
    ("mixed", API, None, None),
]


def run(cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def psql(sql, db="postgres"):
    run(["psql", f"{PG_BASE}/{db}", "-qAtc", sql], stdout=subprocess.DEVNULL)


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.02)
    raise SystemExit(f"{url} never answered")


def post_json(url, body, token=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def wrk(script_args, port, seconds, path="/"):
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script_args:
        cmd += ["-s", str(ROOT / "scripts/bench/scenario.lua"), f"http://127.0.0.1:{port}{path}", "--", *script_args]
    else:
        cmd += [f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = re.search(r"BENCH_ERRORS (\d+)", out)
    refusals = re.search(r"BENCH_REFUSALS (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": rps,
        "p50": pct(50),
        "p99": pct(99),
        "requests": int(total.group(1)) if total else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, socket.groups())) if socket else 0,
        "errors": int(errors.group(1)) if errors else 0,
        "refusals": int(refusals.group(1)) if refusals else 0,
    }


def rss_peak_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    only = set(filter(None, os.environ.get("BENCH_SCENARIOS", "").split(",")))
    for tool in ["wrk", "pgbench", "psql", "redis-cli"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install wrk postgresql-client redis-tools")
    # Two builds: examples bring in dev-dependency features, which would change (and
    # rebuild) the product binaries if built in the same invocation.
    run(["cargo", "build", "--release", "--locked", "-p", "api", "-p", "web", "--bins"], cwd=ROOT)
    run(["cargo", "build", "--release", "--locked", "-p", "api", "--examples"], cwd=ROOT)
    WORK.mkdir(parents=True, exist_ok=True)

    psql("DROP DATABASE IF EXISTS banking_bench")
    psql("CREATE DATABASE banking_bench")
    db_url = f"{PG_BASE}/banking_bench"
    prefix = f"bench{int(time.time())}:"
    run([RELEASE / "examples/bench_seed"], env={**os.environ, "DATABASE_URL": db_url, "USERS": "10000"})

    procs = []
    api_env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS, "REDIS_KEY_PREFIX": prefix,
               "BISCUIT_PRIVATE_KEY": KEY, "API_BIND": f"127.0.0.1:{API}", "LOG_LEVEL": "warn",
               "ENVIRONMENT": "production", "DATABASE_POOL_SIZE": os.environ.get("BENCH_POOL", "16")}
    started = time.time()
    api = subprocess.Popen([RELEASE / "banking-api"], env=api_env)
    procs.append(api)
    wait_http(f"http://127.0.0.1:{API}/ready")
    start_to_ready_ms = (time.time() - started) * 1000
    web = subprocess.Popen([RELEASE / "banking-web"], env={**os.environ, "API_URL": f"http://127.0.0.1:{API}/graphql",
                                                          "WEB_BIND": f"127.0.0.1:{WEB}", "LOG_LEVEL": "warn"})
    procs.append(web)
    hello = subprocess.Popen([RELEASE / "examples/hello_axum"], env={**os.environ, "BIND": f"127.0.0.1:{HELLO}"})
    procs.append(hello)
    wait_http(f"http://127.0.0.1:{WEB}/healthz")
    wait_http(f"http://127.0.0.1:{HELLO}/")

    try:
        tokens = WORK / "tokens.txt"
        with tokens.open("w") as f:
            for n in range(0, 10000, 40):  # 250 customers spread over the 10,000
                t = post_json(f"http://127.0.0.1:{API}/api/auth/login", {"username": f"bench{n}", "password": "bench-password"})["access_token"]
                me = post_json(f"http://127.0.0.1:{API}/graphql", {"query": "{ accounts { id accountNumber } }"}, t)
                a = me["data"]["accounts"][0]
                f.write(f"{t} {a['id']} {a['accountNumber']}\n")

        results = {}
        # Baselines first, in the same run.
        wrk(None, HELLO, WARMUP)
        results["hello"] = wrk(None, HELLO, SECONDS)
        psql("DROP DATABASE IF EXISTS banking_pgbench")
        psql("CREATE DATABASE banking_pgbench")
        run(["pgbench", "-q", "-i", "-s", "10", f"{PG_BASE}/banking_pgbench"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = subprocess.run(["pgbench", "-c", str(CONNECTIONS), "-j", str(THREADS), "-T", str(SECONDS), "-M", "prepared",
                              f"{PG_BASE}/banking_pgbench"], check=True, capture_output=True, text=True).stdout
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        lat = re.search(r"latency average = ([\d.]+) ms", out)
        results["pgbench"] = {"rps": tps, "p50": float(lat.group(1)) if lat else float("nan"), "p99": float("nan"),
                              "requests": 0, "non2xx": 0, "socket_errors": 0, "errors": 0, "refusals": 0}

        for name, port, _, _ in SCENARIOS:
            if only and name not in only:
                continue
            wrk([name, str(tokens)], port, WARMUP)
            results[name] = wrk([name, str(tokens)], port, SECONDS)
            print(name, results[name], flush=True)
        rss = rss_peak_mib(api.pid)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()

    write_report(results, rss, start_to_ready_ms)


def write_report(results, rss, ready_ms):
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name"))
    except StopIteration:
        pass
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `just bench` on {datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}), "
        f"{platform.system()} {platform.release()}; wrk and pgbench share the machine with the services. "
        f"{CONNECTIONS} connections, {SECONDS} s per scenario after a {WARMUP} s warm-up; 10,000 seeded customers, "
        "requests spread over 250 of them; PostgreSQL 15 and Redis on the same machine; release builds.",
        "",
        "| scenario | requests/s | p50 ms | p99 ms | failed | business refusals | baseline | ratio | target |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for name, _, baseline, target in [("hello", 0, None, None), ("pgbench", 0, None, None), *SCENARIOS]:
        r = results.get(name)
        if not r:
            continue
        ratio = ""
        verdict = ""
        if baseline and baseline in results:
            value = r["rps"] / results[baseline]["rps"]
            ratio = f"{value:.2f}"
            if target:
                verdict = f"≥ {target} {'met' if value >= target else 'missed'}"
        if name.startswith("accounts") and r["p99"] > 25:
            verdict += " (p99 ≤ 25 ms missed)"
        failed = r["errors"] + r["non2xx"] + r["socket_errors"] - (r["refusals"] if r["non2xx"] else 0)
        label = {"hello": "baseline: trivial axum handler", "pgbench": "baseline: pgbench tpcb-like (TPS)"}.get(name, name)
        p99 = "" if r["p99"] != r["p99"] else f"{r['p99']:.2f}"
        lines.append(f"| {label} | {r['rps']:.0f} | {r['p50']:.2f} | {p99} | {max(failed, 0)} | {r['refusals']} | {baseline or ''} | {ratio} | {verdict} |")
    lines += [
        "",
        f"- api peak RSS under load (VmHWM): **{rss:.1f} MiB** (target ≤ 64 MiB: {'met' if rss <= 64 else 'missed'})",
        f"- api start to `/ready` on a migrated database: **{ready_ms:.0f} ms** (target ≤ 1000 ms: {'met' if ready_ms <= 1000 else 'missed'})",
        "",
    ]
    notes = ROOT / "docs/benchmarks-notes.md"
    if notes.exists():
        lines += [notes.read_text()]
    (ROOT / "docs/benchmarks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
