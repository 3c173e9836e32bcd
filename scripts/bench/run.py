#!/usr/bin/env python3
"""`just bench`: release binaries, services, 10,000 seeded customers, each scenario under
wrk at a fixed concurrency after a warm-up, side by side with the machine's own limits
(pgbench tpcb-like on the same PostgreSQL, a trivial axum handler), written to
docs/benchmarks.md. Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (32),
BENCH_SCENARIOS (comma-separated subset), BENCH_PROFILE (default 1: after each measured
run, one more run of the same length under `perf record -a`, to say where the CPU went;
0 skips it)."""

import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# support.py lives one directory up, in scripts/, which is not on sys.path when this runs.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import ROOT, cargo_target_dir, stop_processes, wait_http  # noqa: E402

TARGET = cargo_target_dir()
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
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"

SCENARIOS = [
    # name, target port, baseline, target ratio (None: report only)
    ("accounts-graphql", API, "hello-scripted", 0.35),
    ("accounts-rest", API, "hello-scripted", 0.35),
    ("me", API, "hello-scripted", None),
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


def wait_ready(url):
    """`url` answers 200 within a minute, or the bench stops."""
    if not wait_http(url, request_timeout=1, poll=0.02):
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


def perf_usable():
    if not shutil.which("perf"):
        return False
    probe = subprocess.run(["perf", "record", "-a", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"],
                           capture_output=True)
    return probe.returncode == 0


def profile(script_args, port, seconds, pids):
    """CPU samples of the whole machine during one more wrk run: the share of each process
    (api, web, wrk, PostgreSQL, Redis, ...) and the api's hottest functions."""
    data = WORK / "perf.data"
    perf = subprocess.Popen(["perf", "record", "-a", "-e", "cpu-clock", "-F", "499", "-o", str(data), "--",
                             "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrk(script_args, port, seconds)
    perf.wait()
    out = subprocess.run(["perf", "script", "-i", str(data), "-F", "pid,comm,ip,sym"], capture_output=True,
                         text=True, errors="replace").stdout
    by_process, api_symbols, total = {}, {}, 0
    for line in out.splitlines():
        m = re.match(r"\s*(\S.*?)\s+(\d+)\s+[0-9a-f]+\s*(.*)$", line)
        if not m:
            continue
        comm, pid, sym = m.group(1), int(m.group(2)), m.group(3).strip()
        name = pids.get(pid) or {"postgres": "postgres", "redis-server": "redis"}.get(comm, comm)
        if name.startswith("swapper"):  # the kernel's idle task
            name = "idle"
        by_process[name] = by_process.get(name, 0) + 1
        total += 1
        if pids.get(pid) == "api":
            sym = re.sub(r"::h[0-9a-f]{16}$", "", sym) or "[unknown]"
            api_symbols[sym] = api_symbols.get(sym, 0) + 1
    if not total:
        return None
    share = {k: v / total for k, v in sorted(by_process.items(), key=lambda kv: -kv[1])}
    api_total = max(sum(api_symbols.values()), 1)
    top = [(s, n / api_total) for s, n in sorted(api_symbols.items(), key=lambda kv: -kv[1])[:12]]
    return {"share": share, "api_top": top}


def start_local_services():
    """The default PostgreSQL and Redis on this machine, started when they are down (as
    scripts/test does); BENCH_PG / BENCH_REDIS pointing elsewhere are left alone."""
    if "BENCH_PG" not in os.environ and subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode != 0:
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if versions:
            run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"])
        for _ in range(50):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0:
                break
            time.sleep(0.2)
    ping = ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"]
    if "BENCH_REDIS" not in os.environ and subprocess.run(ping, capture_output=True).returncode != 0:
        run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        for _ in range(50):
            if subprocess.run(ping, capture_output=True).returncode == 0:
                break
            time.sleep(0.2)


def main():
    only = set(filter(None, os.environ.get("BENCH_SCENARIOS", "").split(",")))
    packages = {"wrk": "wrk", "pgbench": "postgresql-client", "psql": "postgresql-client",
                "pg_isready": "postgresql-client", "redis-cli": "redis-tools", "perf": "linux-perf"}
    missing = sorted({pkg for tool, pkg in packages.items() if not shutil.which(tool)})
    if missing and shutil.which("apt-get") and os.geteuid() == 0:
        run(["apt-get", "install", "-y", "-qq", *missing], stdout=subprocess.DEVNULL)
    for tool in ["wrk", "pgbench", "psql", "redis-cli"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install wrk postgresql-client redis-tools")
    start_local_services()
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
               "BISCUIT_PRIVATE_KEY": KEY, "API_BIND": f"127.0.0.1:{API}", "METRICS_BIND": "127.0.0.1:0", "LOG_LEVEL": "warn",
               "ENVIRONMENT": "production", "DATABASE_POOL_SIZE": os.environ.get("BENCH_POOL", "16")}
    started = time.time()
    api = subprocess.Popen([RELEASE / "banking-api"], env=api_env)
    procs.append(api)
    wait_ready(f"http://127.0.0.1:{API}/ready")
    start_to_ready_ms = (time.time() - started) * 1000
    web = subprocess.Popen([RELEASE / "banking-web"], env={**os.environ, "API_URL": f"http://127.0.0.1:{API}/graphql",
                                                          "WEB_BIND": f"127.0.0.1:{WEB}", "METRICS_BIND": "127.0.0.1:0",
                                                          "LOG_LEVEL": "warn"})
    procs.append(web)
    hello = subprocess.Popen([RELEASE / "examples/hello_axum"], env={**os.environ, "BIND": f"127.0.0.1:{HELLO}"})
    procs.append(hello)
    wait_ready(f"http://127.0.0.1:{WEB}/healthz")
    wait_ready(f"http://127.0.0.1:{HELLO}/")

    try:
        tokens = WORK / "tokens.txt"
        with tokens.open("w") as f:
            for n in range(0, 10000, 40):  # 250 customers spread over the 10,000
                t = post_json(f"http://127.0.0.1:{API}/api/auth/login", {"username": f"bench{n}", "password": "bench-password"})["access_token"]
                me = post_json(f"http://127.0.0.1:{API}/graphql", {"query": "{ accounts { id accountNumber } }"}, t)
                a = me["data"]["accounts"][0]
                f.write(f"{t} {a['id']} {a['accountNumber']}\n")

        results, profiles, rss_after = {}, {}, {}
        profiling = PROFILE and perf_usable()
        if PROFILE and not profiling:
            print("perf is missing or not permitted: no CPU profiles (apt-get install linux-perf)", flush=True)
        pids = {api.pid: "api", web.pid: "web", hello.pid: "hello"}
        # Baselines first, in the same run.
        wrk(None, HELLO, WARMUP)
        results["hello"] = wrk(None, HELLO, SECONDS)
        wrk(["hello", str(tokens)], HELLO, WARMUP)
        results["hello-scripted"] = wrk(["hello", str(tokens)], HELLO, SECONDS)
        if profiling:
            profiles["hello-scripted"] = profile(["hello", str(tokens)], HELLO, SECONDS, pids)
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
            rss_after[name] = rss_peak_mib(api.pid)
            print(name, results[name], f"api peak RSS so far {rss_after[name]:.1f} MiB", flush=True)
            if profiling:
                profiles[name] = profile([name, str(tokens)], port, SECONDS, pids)
        rss = rss_peak_mib(api.pid)
    finally:
        stop_processes(procs)

    write_report(results, rss, start_to_ready_ms, rss_after, profiles)


def write_report(results, rss, ready_ms, rss_after, profiles):
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
        "| scenario | requests/s | p50 ms | p99 ms | failed | business refusals | baseline | ratio | target | api peak RSS after, MiB |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for name, _, baseline, target in [("hello", 0, None, None), ("hello-scripted", 0, "hello", None),
                                       ("pgbench", 0, None, None), *SCENARIOS]:
        r = results.get(name)
        if not r:
            continue
        ratio = ""
        verdict = ""
        if baseline and baseline in results:
            value = r["rps"] / results[baseline]["rps"]
            ratio = f"{value:.2f}"
            if baseline == "hello-scripted" and "hello" in results:
                ratio += f" ({r['rps'] / results['hello']['rps']:.2f} vs. plain wrk)"
            if target:
                verdict = f"≥ {target} {'met' if value >= target else 'missed'}"
        if name.startswith("accounts") and r["p99"] > 25:
            verdict += " (p99 ≤ 25 ms missed)"
        failed = r["errors"] + r["non2xx"] + r["socket_errors"] - (r["refusals"] if r["non2xx"] else 0)
        label = {"hello": "baseline: trivial axum handler, plain wrk",
                 "hello-scripted": "baseline: trivial axum handler, the scenarios' wrk script",
                 "pgbench": "baseline: pgbench tpcb-like (TPS)"}.get(name, name)
        p99 = "" if r["p99"] != r["p99"] else f"{r['p99']:.2f}"
        after = f"{rss_after[name]:.1f}" if name in rss_after else ""
        lines.append(f"| {label} | {r['rps']:.0f} | {r['p50']:.2f} | {p99} | {max(failed, 0)} | {r['refusals']} | {baseline or ''} | {ratio} | {verdict} | {after} |")
    lines += [
        "",
        f"- api peak RSS under load (VmHWM): **{rss:.1f} MiB** (target ≤ 64 MiB: {'met' if rss <= 64 else 'missed'})",
        f"- api start to `/ready` on a migrated database: **{ready_ms:.0f} ms** (target ≤ 1000 ms: {'met' if ready_ms <= 1000 else 'missed'})",
        "",
    ]
    if profiles:
        lines += ["## Where the CPU goes", "",
                  "One more run of each scenario under `perf record -a -e cpu-clock` (499 Hz, the whole machine): "
                  "the share of all CPU samples per process, and the api's hottest functions as a share of the api's own samples.",
                  ""]
        for name, prof in profiles.items():
            if not prof:
                continue
            share = ", ".join(f"{k} {v:.0%}" for k, v in prof["share"].items() if v >= 0.01)
            lines += [f"**{name}**: {share}", ""]
            if prof["api_top"]:
                lines += ["| api function | share of api samples |", "|---|---:|"]
                lines += [f"| `{s.replace('|', '/')[:110]}` | {v:.1%} |" for s, v in prof["api_top"]]
                lines += [""]
    notes = ROOT / "docs/benchmarks-notes.md"
    if notes.exists():
        lines += [notes.read_text()]
    (ROOT / "docs/benchmarks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
