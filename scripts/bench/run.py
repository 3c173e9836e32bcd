#!/usr/bin/env python3
"""`just bench` and `just bench-scale` (`run.py --scale`).

Release binaries and services; a database seeded in bulk (scripts/bench/seed.py: 10
postings per customer, a few hot accounts); a token for every customer, minted with the
api's own code (`bench_support tokens`, the sessions registered in Redis as the api does),
so requests can be spread over all customers, not the few a login loop could sign in;
each scenario under wrk at a fixed concurrency after a warm-up, side by side with the
machine's own limits (pgbench tpcb-like on the same PostgreSQL, a trivial axum handler),
written to docs/benchmarks.md.

- `just bench`: 10,000 customers, requests spread uniformly over all of them; with
  BENCH_PROFILE=1 (the default here) one more run of each scenario under `perf record -a`.
- `just bench-scale`: the same at 10^4, then 10^6 customers (10^7 postings, seeded into
  its own database `banking_bench_scale`, kept for the next run unless BENCH_RESEED=1),
  uniformly and Zipf-skewed, a sweep over every customer for the memory figures, p50/p99
  against concurrency (docs/benchmarks-concurrency.svg) and EXPLAIN of the hot queries.

Environment: BENCH_SECONDS (10), BENCH_PGBENCH_SECONDS (60), BENCH_WARMUP (3), BENCH_CONNECTIONS (32), BENCH_SCENARIOS
(comma-separated subset), BENCH_PROFILE, BENCH_CUSTOMERS (the large scale, 1000000),
BENCH_RESEED, BENCH_NO_BUILD (1: the binaries an earlier run copied), BENCH_KEEP_DB (keep the scale database at the end; default: dropped),
BENCH_QUIET_LOAD (wait, up to BENCH_QUIET_MINUTES (30), for the 1-minute load average to
fall below this before measuring; 1.0 with --scale)."""

import base64
import datetime
import json
import math
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import ROOT, cargo_target_dir, proc_field, spare_port, stop_processes, wait_http  # noqa: E402
import seed as seeding  # noqa: E402
from stalls import Probe  # noqa: E402

SCALE_MODE = "--scale" in sys.argv[1:]
TARGET = cargo_target_dir()
# The binaries are copied here right after the build: a target directory shared with other
# checkouts may have their binaries under the same names by the time a scenario starts.
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/banking-bench"))
RELEASE = WORK / "bin"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# pgbench's 10 s runs landed on or off a checkpoint: the same database measured 1,739 and
# 3,253 TPS in two runs (docs/benchmarks-notes.md). Longer, after a checkpoint, it steadies.
PGBENCH_SECONDS = int(os.environ.get("BENCH_PGBENCH_SECONDS", "60"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = 2
PG_ADMIN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BASE = PG_ADMIN.rsplit("/", 1)[0]
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
# Free ports, so a second checkout's benchmark on the same machine cannot answer for this one.
API, WEB, HELLO = (spare_port() for _ in range(3))
KEY = "7f" * 32
PROFILE = os.environ.get("BENCH_PROFILE", "0" if SCALE_MODE else "1") != "0"
LARGE = int(os.environ.get("BENCH_CUSTOMERS", "1000000"))
QUIET_LOAD = float(os.environ.get("BENCH_QUIET_LOAD", "1.0" if SCALE_MODE else "0"))
QUIET_MINUTES = float(os.environ.get("BENCH_QUIET_MINUTES", "30"))
# Sessions outlive the whole run (the default idle timeout, 30 min, is shorter than it).
SESSION_TTL = 7 * 24 * 3600
CONCURRENCY = [8, 16, 32, 64, 128, 256]
# Databases this run seeded (a second look at one must not call it an earlier run's).
SEEDED_NOW = set()

SCENARIOS = [
    # name, target port, baseline, target ratio (None: report only), spreads it runs in at scale
    ("accounts-graphql", API, "hello-scripted", 0.35),
    ("accounts-rest", API, "hello-scripted", 0.35),
    ("me", API, "hello-scripted", None),
    ("transfer-graphql", API, "pgbench", 0.5),
    ("transfer-rest", API, "pgbench", 0.5),
    ("history-first", API, None, None),
    ("history-deep", API, None, None),
    ("statement", API, None, None),
    ("dashboard", WEB, "accounts-graphql", 0.3),
    ("mixed", API, None, None),
    ("login", API, None, None),
]
LABELS = {"hello": "baseline: trivial axum handler, plain wrk",
          "hello-scripted": "baseline: trivial axum handler, the scenarios' wrk script",
          "pgbench": "baseline: pgbench tpcb-like (TPS)"}


def run(cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def psql(sql, db="postgres", capture=False):
    result = subprocess.run(["psql", f"{PG_BASE}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtXc", sql], check=True,
                            capture_output=True, text=True)
    return result.stdout.strip() if capture else None


def wait_ready(url):
    """`url` answers 200 within a minute, or the bench stops."""
    if not wait_http(url, request_timeout=1, poll=0.02):
        raise SystemExit(f"{url} never answered")


def load_average():
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_quiet():
    """Waits (up to 30 min) for the 1-minute load average to fall below QUIET_LOAD: other
    builds on the machine would pollute the figures. Returns the load when measuring starts
    and whether quiet came."""
    if QUIET_LOAD <= 0:
        return load_average(), True
    deadline = time.time() + QUIET_MINUTES * 60
    while True:
        load = load_average()
        if load < QUIET_LOAD:
            return load, True
        if time.time() > deadline:
            print(f"the load average stayed at or above {QUIET_LOAD} for {QUIET_MINUTES} min ({load}); measuring anyway",
                  flush=True)
            return load, False
        print(f"waiting for quiet: 1-minute load average {load} (want < {QUIET_LOAD})", flush=True)
        time.sleep(30)


def wrk(script_args, port, seconds, path="/", connections=None):
    cmd = ["wrk", f"-t{THREADS}", f"-c{connections or CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
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


def proc_mib(pid, file, name):
    """A /proc field given in kB, in MiB (NaN when the kernel does not write it)."""
    kb = proc_field(pid, file, name)
    return int(kb) / 1024 if kb is not None else float("nan")


def rss_peak_mib(pid):
    return proc_mib(pid, "status", "VmHWM")


def huge_pages_mib(pid):
    """Resident memory in transparent huge pages: 0 since both processes ask for small
    pages only (banking_common::memory)."""
    return proc_mib(pid, "smaps_rollup", "AnonHugePages")


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


def database_name(customers):
    return "banking_bench_small" if customers <= 10_000 else "banking_bench_scale"


def prepare_database(customers, password_hash):
    """A database seeded at this scale: reused when an earlier run finished seeding it
    (unless BENCH_RESEED=1), else made anew. Returns its name and the seeding time."""
    db = database_name(customers)
    scale = seeding.Scale.standard(customers)
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'", capture=True) == "1"
    if exists and (db in SEEDED_NOW or os.environ.get("BENCH_RESEED") != "1") and seeding.seeded_scale(db) == scale:
        print(f"{db}: already seeded at {scale.describe()}; reusing it (BENCH_RESEED=1 seeds anew)", flush=True)
        return db, seeding.seconds_taken(db), db not in SEEDED_NOW
    print(f"df -h /work before seeding: {shutil.disk_usage('/work').free / 2**30:.0f} GiB free", flush=True)
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")
    run([RELEASE / "banking-api", "migrate"], env={**os.environ, "DATABASE_URL": f"{PG_BASE}/{db}", "LOG_LEVEL": "warn"})
    seconds = seeding.seed(db, scale, password_hash)
    SEEDED_NOW.add(db)
    return db, seconds, False


def prewarm(db):
    """Reads every table and index of `db` into PostgreSQL's shared buffers (pg_prewarm, in
    PostgreSQL's contrib), so the first scenarios do not pay for reading them from disk.
    Returns the database's size and shared_buffers, in MiB, for the report: where the
    database is larger than shared_buffers, a request may still read from the disk
    whenever the operating system's page cache has let go of a page (on the machines these
    figures come from, a sandbox agent drops the page cache within minutes)."""
    psql("CREATE EXTENSION IF NOT EXISTS pg_prewarm", db)
    psql("SELECT sum(pg_prewarm(c.oid)) FROM pg_class c "
         "WHERE c.relkind IN ('r', 'i') AND c.relnamespace = 'public'::regnamespace", db)
    size = int(psql(f"SELECT pg_database_size('{db}') / 1048576", db, capture=True))
    buffers = int(psql("SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'", db,
                       capture=True))
    return size, buffers


def mint_tokens(db, prefix, path):
    run([RELEASE / "examples/bench_support", "tokens", str(path)],
        env={**os.environ, "DATABASE_URL": f"{PG_BASE}/{db}", "REDIS_URL": REDIS, "REDIS_KEY_PREFIX": prefix,
             "BISCUIT_PRIVATE_KEY": KEY, "SESSION_TTL_SECS": str(SESSION_TTL)}, stdout=subprocess.DEVNULL)


def deep_cursors(db, tokens_path, scale, path):
    """Cursors 50% to 95% down the hot accounts' histories, with their owners' tokens."""
    with tokens_path.open() as f:
        owners = [next(f).split() for _ in range(scale.hot)]
    lines = []
    for token, account, _ in owners:
        total = int(psql(f"SELECT count(*) FROM transactions WHERE from_account = {account} OR to_account = {account}",
                         db, capture=True))
        for k in range(20):
            offset = int(total * (0.5 + 0.45 * k / 19))
            tx = psql(f"SELECT id FROM transactions WHERE from_account = {account} OR to_account = {account} "
                      f"ORDER BY id DESC OFFSET {offset} LIMIT 1", db, capture=True)
            cursor = base64.urlsafe_b64encode(f"tx:{tx}".encode()).decode().rstrip("=")
            lines.append(f"{token} {account} {cursor}\n")
    path.write_text("".join(lines))
    return total


def pgbench_tables(db, scale_factor):
    """pgbench's tables at this scale factor in `db` (the seeded database itself)."""
    made = psql("SELECT to_regclass('pgbench_branches') IS NOT NULL", db, capture=True) == "t"
    branches = int(psql("SELECT count(*) FROM pgbench_branches", db, capture=True)) if made else 0
    if branches != scale_factor:
        run(["pgbench", "-q", "-i", "-s", str(scale_factor), f"{PG_BASE}/{db}"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)


def pgbench(db, scale_factor, connections=None):
    """pgbench tpcb-like on `db`, its tables made by `pgbench_tables`."""
    pgbench_tables(db, scale_factor)
    psql("CHECKPOINT", db)
    out = subprocess.run(["pgbench", "-c", str(connections or CONNECTIONS), "-j", str(THREADS), "-T", str(PGBENCH_SECONDS),
                          "-M", "prepared", f"{PG_BASE}/{db}"],
                         check=True, capture_output=True, text=True)
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    return {"rps": tps, "p50": float(lat.group(1)) if lat else float("nan"), "p99": float("nan"),
            "requests": 0, "non2xx": 0, "socket_errors": 0, "errors": 0, "refusals": 0, "p50_is_mean": True}


def measure(customers, password_hash, only, spreads, hello, extras):
    """Every scenario at one scale: a fresh api and web on a database seeded for it."""
    scale = seeding.Scale.standard(customers)
    db, seed_seconds, reused = prepare_database(customers, password_hash)
    db_url = f"{PG_BASE}/{db}"
    prefix = f"bench{int(time.time())}:"
    WORK.mkdir(parents=True, exist_ok=True)
    tokens = WORK / f"tokens-{customers}.txt"
    deep = WORK / f"deep-{customers}.txt"
    started = time.time()
    mint_tokens(db, prefix, tokens)
    # For scripts/bench/callgrind.py, which reuses these sessions.
    (WORK / f"prefix-{customers}.txt").write_text(prefix)
    token_seconds = time.time() - started
    deep_total = deep_cursors(db, tokens, scale, deep)
    # pgbench's tables first (made once per database), so the prewarm reads them too.
    pgbench_tables(db, max(1, scale.postings // 100_000))
    db_mib, buffers_mib = prewarm(db)
    # Freshly made tables leave gigabytes dirty: written out now, not during the scenarios.
    psql("CHECKPOINT", db)
    today = datetime.date.today()
    dates = [(today - datetime.timedelta(days=364)).isoformat(), today.isoformat()]

    api_env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS, "REDIS_KEY_PREFIX": prefix,
               "BISCUIT_PRIVATE_KEY": KEY, "API_BIND": f"127.0.0.1:{API}", "METRICS_BIND": "127.0.0.1:0",
               "LOG_LEVEL": "warn", "ENVIRONMENT": "production", "SESSION_TTL_SECS": str(SESSION_TTL)}
    for var in ["DATABASE_POOL_SIZE"]:
        if f"BENCH_{var}" in os.environ:
            api_env[var] = os.environ[f"BENCH_{var}"]
    procs = []
    out = {"customers": customers, "scale": scale, "seed_seconds": seed_seconds, "seed_reused": reused,
           "token_seconds": token_seconds, "deep_total": deep_total, "db_mib": db_mib,
           "shared_buffers_mib": buffers_mib, "results": {}, "profiles": {},
           "rss_after": {}}
    try:
        launched = time.time()
        api = subprocess.Popen([RELEASE / "banking-api"], env=api_env)
        procs.append(api)
        wait_ready(f"http://127.0.0.1:{API}/ready")
        out["ready_ms"] = (time.time() - launched) * 1000
        web = subprocess.Popen([RELEASE / "banking-web"], env={**os.environ, "API_URL": f"http://127.0.0.1:{API}/graphql",
                                                              "WEB_BIND": f"127.0.0.1:{WEB}", "METRICS_BIND": "127.0.0.1:0",
                                                              "LOG_LEVEL": "warn"})
        procs.append(web)
        wait_ready(f"http://127.0.0.1:{WEB}/healthz")
        load, quiet = wait_for_quiet()
        out["load"], out["quiet"] = load, quiet
        profiling = PROFILE and perf_usable()
        if PROFILE and not profiling:
            print("perf is missing or not permitted: no CPU profiles (apt-get install linux-perf)", flush=True)
        pids = {api.pid: "api", web.pid: "web", hello.pid: "hello"}

        def args(name, spread):
            return [name, str(tokens), spread, str(THREADS), str(deep), *dates]

        results = out["results"]
        if customers <= 100_000:
            # Every customer once before measuring: at this scale the caches hold them all,
            # and the first scenario must not pay for filling them.
            wrk(args("accounts-graphql", "sweep"), API, max(3, customers // 4000))
        for spread in spreads:
            r = results.setdefault(spread, {})
            # Baselines first, in the same run.
            wrk(None, HELLO, WARMUP)
            r["hello"] = wrk(None, HELLO, SECONDS)
            wrk(args("hello", spread), HELLO, WARMUP)
            r["hello-scripted"] = wrk(args("hello", spread), HELLO, SECONDS)
            if profiling:
                out["profiles"]["hello-scripted"] = profile(args("hello", spread), HELLO, SECONDS, pids)
            r["pgbench"] = pgbench(db, max(1, scale.postings // 100_000))
            for name, port, _, _ in SCENARIOS:
                if only and name not in only:
                    continue
                if name == "login" and spread != spreads[0]:
                    continue  # the same argon2 work whoever signs in
                wrk(args(name, spread), port, WARMUP)
                r[name] = wrk(args(name, spread), port, SECONDS)
                out["rss_after"][f"{spread}:{name}"] = rss_peak_mib(api.pid)
                print(customers, spread, name, r[name], f"api peak RSS so far {out['rss_after'][f'{spread}:{name}']:.1f} MiB",
                      flush=True)
                if profiling:
                    out["profiles"][name] = profile(args(name, spread), port, SECONDS, pids)
        if "sweep" in extras:
            # Every customer once (and then some): the caches meet every distinct key.
            rate = max(results[spreads[0]].get("accounts-graphql", {"rps": 5000})["rps"], 1000)
            seconds = int(customers / rate * 1.3) + 5
            out["sweep"] = wrk(args("accounts-graphql", "sweep"), API, seconds)
            out["sweep"]["seconds"] = seconds
            out["sweep_dashboard"] = wrk(args("dashboard", "sweep"), WEB, SECONDS * 2)
        if "concurrency" in extras:
            curve = out["concurrency"] = {}
            redis_host, redis_port = REDIS.removeprefix("redis://").split(":")
            for name in ["accounts-graphql", "transfer-graphql"]:
                for c in CONCURRENCY:
                    wrk(args(name, "uniform"), API, 2, connections=c)
                    with Probe(db_url, redis_host, int(redis_port), API) as probe:
                        point = wrk(args(name, "uniform"), API, max(SECONDS // 2, 5), connections=c)
                    point["probe"] = probe.report()
                    curve.setdefault(name, {})[c] = point
                    print("concurrency", name, c, point, flush=True)
        out["api_rss"] = rss_peak_mib(api.pid)
        out["web_rss"] = rss_peak_mib(web.pid)
        out["api_huge"], out["web_huge"] = huge_pages_mib(api.pid), huge_pages_mib(web.pid)
        if "explain" in extras:
            out["explain"] = explain(db, scale)
    finally:
        stop_processes(procs)
    return out


def hot_queries(scale):
    """The hot queries, as the ledger sends them (ledger/accounts.rs, history.rs,
    overview.rs, transfers.rs, statement.rs, users.rs), with a customer's and a hot account's ids."""
    user, account, other = scale.customers // 2, scale.customers - 1, scale.customers + 3
    hot = 1
    return [
        ("accounts of a customer (ledger/accounts.rs `accounts`)",
         f"SELECT * FROM accounts WHERE user_id = {user} ORDER BY id"),
        ("one of the caller's accounts (`account`)",
         f"SELECT * FROM accounts WHERE id = {account} AND user_id = {(account + 1) // 2}"),
        ("the customer (ledger/users.rs)", f"SELECT * FROM users WHERE id = {user}"),
        ("sign-in by username", f"SELECT * FROM users WHERE username = 'bench{user}'"),
        ("history, first page of a hot account (ledger/history.rs)",
         f"SELECT * FROM (SELECT * FROM transactions WHERE from_account = {hot} ORDER BY id DESC LIMIT 21) a "
         f"UNION ALL SELECT * FROM (SELECT * FROM transactions WHERE to_account = {hot} ORDER BY id DESC LIMIT 21) b "
         f"ORDER BY id DESC LIMIT 21"),
        ("history, a page deep in a hot account (cursor 100 postings from its start)",
         f"SELECT * FROM (SELECT * FROM transactions WHERE from_account = {hot} AND id < "
         f"(SELECT id FROM transactions WHERE to_account = {hot} ORDER BY id LIMIT 1 OFFSET 100) ORDER BY id DESC LIMIT 21) a "
         f"UNION ALL SELECT * FROM (SELECT * FROM transactions WHERE to_account = {hot} AND id < "
         f"(SELECT id FROM transactions WHERE to_account = {hot} ORDER BY id LIMIT 1 OFFSET 100) ORDER BY id DESC LIMIT 21) b "
         f"ORDER BY id DESC LIMIT 21"),
        ("dashboard: the accounts of a hot account's owner, each with its first page and the counterparties' "
         "numbers (ledger/overview.rs)",
         "SELECT a.*, t.*, sender.account_number, receiver.account_number FROM accounts a LEFT JOIN LATERAL ("
         "SELECT * FROM (SELECT * FROM transactions WHERE from_account = a.id ORDER BY id DESC LIMIT 6) AS sent "
         "UNION ALL SELECT * FROM (SELECT * FROM transactions WHERE to_account = a.id ORDER BY id DESC LIMIT 6) "
         "AS received ORDER BY id DESC LIMIT 6) t ON true "
         "LEFT JOIN accounts sender ON sender.id = t.from_account LEFT JOIN accounts receiver ON receiver.id = t.to_account "
         f"WHERE a.user_id = (SELECT user_id FROM accounts WHERE id = {hot}) ORDER BY a.id, t.id DESC"),
        ("history before the fix: one OR over both columns (for comparison)",
         f"SELECT * FROM transactions WHERE from_account = {hot} OR to_account = {hot} ORDER BY id DESC LIMIT 21"),
        ("transfer: one statement locks both rows, checks, moves the money and records it "
         "(ledger/transfers/one_statement.rs `POSTING_SQL`)",
         f"WITH locked AS (SELECT * FROM accounts WHERE id = {account} OR account_number = '{5000000000 + other}' "
         f"ORDER BY id FOR UPDATE), "
         f"allowed AS (SELECT s.id AS source_id, s.balance AS source_balance, t.id AS target_id, "
         f"t.balance AS target_balance FROM locked s, locked t WHERE s.id = {account} "
         f"AND s.user_id = {(account + 1) // 2} AND t.account_number = '{5000000000 + other}' AND s.id <> t.id "
         f"AND s.balance >= 1 AND t.balance <= 9223372036854775807 - 1), "
         f"moved AS (UPDATE accounts SET balance = CASE WHEN accounts.id = allowed.source_id "
         f"THEN allowed.source_balance - 1 ELSE allowed.target_balance + 1 END FROM allowed "
         f"WHERE accounts.id = allowed.target_id OR accounts.id = allowed.source_id "
         f"RETURNING accounts.id), "
         f"posted AS (INSERT INTO transactions (from_account, to_account, amount, description, idempotency_key, "
         f"initiated_by, created_at) SELECT source_id, target_id, 1, NULL, 'explain-1', {(account + 1) // 2}, now() "
         f"FROM allowed RETURNING *) "
         f"SELECT a.*, t.*, (SELECT count(*) FROM moved) AS moved FROM locked a LEFT JOIN posted t ON true ORDER BY a.id"),
        ("transfer: a retry's original by key",
         f"SELECT * FROM transactions WHERE initiated_by = {user} AND idempotency_key = 'seed-1'"),
        ("statement: opening balance, credits before the period (ledger/statement.rs)",
         f"SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transactions WHERE to_account = {hot} "
         f"AND created_at < now() - interval '30 days'"),
        ("statement: a page of postings in the period",
         f"SELECT * FROM (SELECT * FROM transactions WHERE from_account = {hot} AND id > 0 "
         f"AND created_at >= now() - interval '30 days' AND created_at < now() ORDER BY id LIMIT 500) a "
         f"UNION ALL SELECT * FROM (SELECT * FROM transactions WHERE to_account = {hot} AND id > 0 "
         f"AND created_at >= now() - interval '30 days' AND created_at < now() ORDER BY id LIMIT 500) b "
         f"ORDER BY id LIMIT 500"),
    ]


def explain(db, scale):
    plans = []
    for title, sql in hot_queries(scale):
        # Inside a transaction that is rolled back: the UPDATE and FOR UPDATE change nothing.
        text = psql(f"BEGIN; EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}; ROLLBACK;", db, capture=True)
        plans.append((title, sql, text))
    return plans


def plot(curve, path):
    """p50 and p99 (left axis) and requests/s (right axis, grey) against connections, one
    panel per scenario, written as a plain SVG (no plotting library to install)."""
    width, height, margin = 460, 320, {"left": 60, "right": 64, "top": 34, "bottom": 46}
    inner_w = width - margin["left"] - margin["right"]
    inner_h = height - margin["top"] - margin["bottom"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(curve)}" height="{height}" '
           f'font-family="sans-serif" font-size="11">', f'<rect width="100%" height="100%" fill="white"/>']

    def nice_max(v):
        v = max(v, 1e-9)
        step = 10 ** math.floor(math.log10(v))
        for m in (1, 2, 2.5, 5, 10):
            if v <= m * step:
                return m * step
        return 10 * step

    for panel, (name, points) in enumerate(curve.items()):
        x0 = panel * width + margin["left"]
        cs = sorted(points)
        lat_max = nice_max(max(max(points[c]["p99"], points[c]["p50"]) for c in cs))
        rps_max = nice_max(max(points[c]["rps"] for c in cs))
        lo, hi = math.log2(cs[0]), math.log2(cs[-1])

        def x(c):
            return x0 + (math.log2(c) - lo) / max(hi - lo, 1e-9) * inner_w

        def y(v, top):
            return margin["top"] + inner_h - v / top * inner_h

        out.append(f'<text x="{x0 + inner_w / 2}" y="18" text-anchor="middle" font-size="13">'
                   f'{name}, 10^6 customers, uniform</text>')
        out.append(f'<rect x="{x0}" y="{margin["top"]}" width="{inner_w}" height="{inner_h}" fill="none" stroke="#444"/>')
        for k in range(6):
            v = lat_max * k / 5
            yy = y(v, lat_max)
            out.append(f'<line x1="{x0}" x2="{x0 + inner_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
            out.append(f'<text x="{x0 + inner_w + 6}" y="{yy + 4:.1f}" fill="grey">{rps_max * k / 5:,.0f}</text>')
        for c in cs:
            out.append(f'<text x="{x(c):.1f}" y="{margin["top"] + inner_h + 16}" text-anchor="middle">{c}</text>')
        out.append(f'<text x="{x0 + inner_w / 2}" y="{height - 8}" text-anchor="middle">connections</text>')
        out.append(f'<text transform="translate({x0 - 44},{margin["top"] + inner_h / 2}) rotate(-90)" '
                   f'text-anchor="middle">latency, ms</text>')
        out.append(f'<text transform="translate({x0 + inner_w + 56},{margin["top"] + inner_h / 2}) rotate(90)" '
                   f'text-anchor="middle" fill="grey">requests/s</text>')
        for key, color, dash, top in [("p50", "#1f77b4", "", lat_max), ("p99", "#d62728", ' stroke-dasharray="6 3"', lat_max),
                                      ("rps", "grey", ' stroke-dasharray="2 3"', rps_max)]:
            line = " ".join(f"{x(c):.1f},{y(points[c][key], top):.1f}" for c in cs)
            out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
            for c in cs:
                out.append(f'<circle cx="{x(c):.1f}" cy="{y(points[c][key], top):.1f}" r="3" fill="{color}"/>')
        for k, (label, color) in enumerate([("p50", "#1f77b4"), ("p99", "#d62728"), ("requests/s", "grey")]):
            out.append(f'<rect x="{x0 + 8}" y="{margin["top"] + 8 + 15 * k}" width="10" height="10" fill="{color}"/>')
            out.append(f'<text x="{x0 + 22}" y="{margin["top"] + 17 + 15 * k}">{label}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


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
    if os.environ.get("BENCH_NO_BUILD") != "1":  # 1: the copies an earlier run made
        run(["cargo", "build", "--release", "--locked", "-p", "api", "-p", "web", "--bins"], cwd=ROOT)
        run(["cargo", "build", "--release", "--locked", "-p", "api", "--examples"], cwd=ROOT)
        # cargo links the binaries into place again even when nothing was rebuilt.
        (RELEASE / "examples").mkdir(parents=True, exist_ok=True)
        for name in ["banking-api", "banking-web", "examples/hello_axum", "examples/bench_support"]:
            shutil.copy2(TARGET / "release" / name, RELEASE / name)
    password_hash = subprocess.run([RELEASE / "examples/bench_support", "password-hash"], check=True,
                                   capture_output=True, text=True).stdout.strip()
    os.environ["BENCH_PASSWORD_HASH"] = password_hash

    hello = subprocess.Popen([RELEASE / "examples/hello_axum"], env={**os.environ, "BIND": f"127.0.0.1:{HELLO}"})
    runs = []
    try:
        wait_ready(f"http://127.0.0.1:{HELLO}/")
        if SCALE_MODE:
            # The large database first (its seeding is the long part, and needs no quiet).
            prepare_database(LARGE, password_hash)
        runs.append(measure(10_000, password_hash, only, ["uniform"], hello, set()))
        if SCALE_MODE:
            runs.append(measure(LARGE, password_hash, only, ["uniform", "zipf"], hello,
                                {"sweep", "concurrency", "explain"}))
    finally:
        stop_processes([hello])
    if SCALE_MODE and os.environ.get("BENCH_KEEP_DB") != "1":
        psql(f"DROP DATABASE IF EXISTS {database_name(LARGE)}")
    write_report(runs)


def fmt_rps(r):
    return f"{r['rps']:.0f}" if r else ""


def write_report(runs):
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name"))
    except StopIteration:
        pass
    small = runs[0]
    large = runs[1] if len(runs) > 1 else None
    columns = [(small, "uniform", "10^4 uniform")]
    if large:
        columns += [(large, "uniform", "10^6 uniform"), (large, "zipf", "10^6 Zipf")]
    loads = ", ".join(f"{run['customers']:,} customers: {run['load']:.2f}" + ("" if run["quiet"] else " (never quiet)")
                      for run in runs)
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `just bench{'-scale' if large else ''}` on {datetime.date.today().isoformat()}: "
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; wrk and pgbench share the "
        f"machine with the services. {CONNECTIONS} connections, {SECONDS} s per scenario after a {WARMUP} s warm-up "
        f"(pgbench: {PGBENCH_SECONDS} s after a `CHECKPOINT`); "
        "PostgreSQL 15 and Redis on the same machine; release builds. Requests are spread over all seeded "
        "customers: uniformly, or Zipf-skewed (customer of rank k with probability ~1/k). "
        f"1-minute load average when measuring started: {loads}.",
        "",
    ]
    for run in runs:
        s = run["scale"]
        lines.append(f"- **{s.customers:,} customers**: {s.describe()}; seeded in {run['seed_seconds']:.0f} s"
                     f"{' (by an earlier run, reused)' if run['seed_reused'] else ''} (scripts/bench/seed.py); "
                     f"a token for every customer minted and its session registered in {run['token_seconds']:.0f} s; "
                     f"the deep history pages are 50-95% down accounts of {run['deep_total']:,} postings; "
                     f"the database (with pgbench's tables) is {run['db_mib']:,} MiB, read into PostgreSQL's "
                     f"shared_buffers of {run['shared_buffers_mib']:,} MiB before measuring (pg_prewarm)"
                     f"{'' if run['db_mib'] < run['shared_buffers_mib'] else ': it does not fit, so some reads go to the disk'}.")
    lines += [""]
    head = "| scenario | " + " | ".join(f"{label} req/s | p50 ms | p99 ms" for _, _, label in columns)
    head += " | baseline | ratio | target |"
    lines += [head, "|---|" + "---:|---:|---:|" * len(columns) + "---|---|---|"]
    verdicts = []
    for name, _, baseline, target in [("hello", 0, None, None), ("hello-scripted", 0, "hello", None),
                                       ("pgbench", 0, None, None), *SCENARIOS]:
        cells = []
        ratios = []
        for run, spread, label in columns:
            r = run["results"].get(spread, {}).get(name)
            if not r:
                cells.append(" | | ")
                continue
            p99 = "" if r["p99"] != r["p99"] else f"{r['p99']:.2f}"
            p50 = f"{r['p50']:.2f}" + (" (mean)" if r.get("p50_is_mean") else "")
            failed = r["errors"] + r["non2xx"] + r["socket_errors"] - (r["refusals"] if r["non2xx"] else 0)
            flag = f" ({max(failed, 0)} failed)" if failed > 0 else ""
            cells.append(f"{r['rps']:.0f}{flag} | {p50} | {p99}")
            base = run["results"][spread].get(baseline) if baseline else None
            if base:
                value = r["rps"] / base["rps"]
                ratios.append(f"{value:.2f}")
                if target:
                    verdicts.append((f"{name} ≥ {target} × {baseline}, {label}", value >= target, f"{value:.2f}"))
        if not any(c.strip(" |") for c in cells):
            continue
        target_text = f"≥ {target}" if target else ""
        lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + f" | {baseline or ''} | {' / '.join(ratios)} | {target_text} |")
    lines += [""]
    if large:
        u = large["results"]["uniform"]
        acc = u.get("accounts-graphql")
        if acc:
            verdicts.append(("accounts p99 ≤ 10 ms at 10^6 uniform (GraphQL)", acc["p99"] <= 10, f"{acc['p99']:.2f} ms"))
        if u.get("accounts-rest"):
            verdicts.append(("accounts p99 ≤ 10 ms at 10^6 uniform (REST)", u["accounts-rest"]["p99"] <= 10,
                             f"{u['accounts-rest']['p99']:.2f} ms"))
        if u.get("history-deep") and u.get("history-first"):
            ratio = u["history-deep"]["p99"] / u["history-first"]["p99"]
            verdicts.append(("history deep page p99 ≤ 2 × first page p99 at 10^6", ratio <= 2,
                             f"{u['history-deep']['p99']:.2f} / {u['history-first']['p99']:.2f} ms = {ratio:.2f}"))
        curve = large.get("concurrency", {}).get("accounts-graphql", {})
        within = [c for c in sorted(curve) if curve[c]["p99"] <= 10]
        if curve:
            verdicts.append(("the same, at fewer connections (the concurrency curve): p99 ≤ 10 ms up to", bool(within),
                             f"{within[-1]} connections ({curve[within[-1]]['rps']:.0f} req/s, p99 {curve[within[-1]]['p99']:.2f} ms)"
                             if within else f"none of {sorted(curve)}"))
        verdicts.append(("api peak RSS ≤ 128 MiB after serving every one of 10^6 customers", large["api_rss"] <= 128,
                         f"{large['api_rss']:.1f} MiB"))
        verdicts.append(("web peak RSS ≤ 64 MiB", large["web_rss"] <= 64, f"{large['web_rss']:.1f} MiB"))
    lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {what} | {value} | {'met' if ok else 'missed'} |" for what, ok, value in verdicts]
    lines += [""]
    lines += ["## Memory", ""]
    for run in runs:
        lines.append(f"- {run['customers']:,} customers: api peak RSS (VmHWM) **{run['api_rss']:.1f} MiB**, "
                     f"web **{run['web_rss']:.1f} MiB**; in transparent huge pages at the end: api "
                     f"{run['api_huge']:.0f} MiB, web {run['web_huge']:.0f} MiB; "
                     f"api start to `/ready` {run['ready_ms']:.0f} ms.")
    if large and large.get("sweep"):
        sw = large["sweep"]
        lines.append(f"- The sweep at {large['customers']:,}: `accounts` over GraphQL for every customer in turn, "
                     f"{sw['requests']:,} requests in {sw['seconds']} s ({sw['rps']:.0f}/s, p99 {sw['p99']:.2f} ms), so each "
                     f"of the {large['customers']:,} customers was served at least "
                     f"{'once' if sw['requests'] >= large['customers'] else 'partly (too few requests!)'}; then the dashboard "
                     f"for {large['sweep_dashboard']['requests']:,} customers in turn through the web.")
    lines.append("- At the default cache sizes (docs/benchmarks-notes.md, \"Bounded memory\"): near cache "
                 "`NEAR_CACHE_MIB=16`, verified tokens `TOKEN_CACHE_ENTRIES=10000`, sessions seen alive and "
                 "recently touched `SESSION_CACHE_ENTRIES=20000` each.")
    lines.append("")
    if large and large.get("concurrency"):
        plot(large["concurrency"], ROOT / "docs/benchmarks-concurrency.svg")
        lines += ["## Latency against concurrency", "",
                  "![p50 and p99 against connections](benchmarks-concurrency.svg)", ""]
        lines += ["| connections | " + " | ".join(f"{n} req/s | p50 | p99" for n in large["concurrency"]) + " |",
                  "|---:|" + "---:|---:|---:|" * len(large["concurrency"])]
        for c in CONCURRENCY:
            cells = []
            for n, points in large["concurrency"].items():
                r = points.get(c)
                cells.append(f"{r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f}" if r else " | | ")
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
        lines += ["", "While each point ran (scripts/bench/stalls.py): the slowest of the round trips probed every "
                  "100 ms beside the load (Redis `PING`, a small PostgreSQL query, the api's `/ping`, ms), and what "
                  "was counted meanwhile (PostgreSQL checkpoints, probes that found an autovacuum worker, Redis "
                  "keys expired and forks, the kernel's direct reclaim and compaction stalls).", "",
                  "| scenario | connections | Redis | PostgreSQL | api | checkpoints | autovacuum | expired | forks | "
                  "reclaim |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for n, points in large["concurrency"].items():
            for c, r in points.items():
                p = r.get("probe")
                if p:
                    lines.append(f"| {n} | {c} | {p['worst_redis_ms']} | {p['worst_postgres_ms']} | {p['worst_api_ms']} | "
                                 f"{p['checkpoints']} | {p['autovacuum_seen']} | {p['redis_expired_keys']} | "
                                 f"{p['redis_forks']} | {p['kernel_direct_reclaim']} |")
        lines.append("")
    if large and large.get("explain"):
        lines += ["## The hot queries at 10^7 postings", "",
                  f"`EXPLAIN (ANALYZE, BUFFERS)` on the seeded database ({large['scale'].describe()}), each in a "
                  "transaction rolled back. Account 1 is a hot account.", ""]
        for title, sql, plan in large["explain"]:
            lines += [f"**{title}**", "", "```sql", sql, "```", "", "```", plan, "```", ""]
    profiles = small["profiles"]
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
    (WORK / "results.json").write_text(json.dumps(runs, default=lambda o: o.__dict__, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
