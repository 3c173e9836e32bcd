#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind: immune to whatever else the
machine runs (timings on 2 shared cores are not). Starts the release `banking-api` (and
the trivial handler) under callgrind with instrumentation off, warms up, counts exactly N
requests of each kind sent one at a time, and prints instructions per request with the
functions that cost the most (inclusive), so each step tried on the GraphQL read path can
be measured against the REST route and the trivial handler.

    python3 scripts/bench/callgrind.py [N]          # default 2000
    python3 scripts/bench/callgrind.py --cold [N]   # default 300
    python3 scripts/bench/callgrind.py --cold --steady [N]

Needs a database seeded by `just bench` (banking_bench_small) and Redis; tokens from
/tmp/banking-bench/tokens-10000.txt (the bench writes it, and the REDIS_KEY_PREFIX of their
sessions in prefix-10000.txt; BENCH_PREFIX overrides it).

`--cold`: what a request costs when nothing about its customer is remembered, as at 10^6
customers spread uniformly: every request a different customer of `banking_bench_scale`
(left by `BENCH_KEEP_DB=1 just bench-scale`, with tokens-1000000.txt), for accounts over
REST and GraphQL, a first history page and a transfer, with the share of the token check.

`--steady`: the same, after a minute of `accounts` over GraphQL for customers spread
uniformly (wrk, 8 connections, not counted; some 60,000 customers under valgrind), so the
api's in-process caches are full, as after a while at 10^6 customers: each counted
request's entries then push others out, which a fresh api does not pay for. (At most
about 650 requests per kind: the customers counted are 997 apart, from 1,000 + 100,000 × the kind.)

Under valgrind the sha2 crate finds no SHA extensions and hashes in software, so the
token check counts several times what it costs natively; compare builds, not the share."""

import datetime
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import cargo_target_dir, stop_processes, wait_http  # noqa: E402

RELEASE = cargo_target_dir() / "release"
COLD = "--cold" in sys.argv[1:]
STEADY = "--steady" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a not in ("--cold", "--steady")]
N = int(ARGS[0]) if ARGS else (300 if COLD else 2000)
CUSTOMERS = 1_000_000 if COLD else 10_000
RECORD = 512  # bench_support pads each line of a tokens file to this many bytes
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
WORK = Path("/tmp/banking-bench")
KEY = "7f" * 32
PORT, HELLO = 18100, 18199


def request(port, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST" if body else "GET")
    req.add_header("Authorization", f"Bearer {token}")
    if body:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        answer = r.read()
    if b'"errors"' in answer:
        raise SystemExit(f"{path} answered with errors: {answer[:300]!r}")
    return answer


def customer(i):
    """Customer i's (token, account id, account number) from the tokens file."""
    with (WORK / f"tokens-{CUSTOMERS}.txt").open("rb") as f:
        f.seek(i * RECORD)
        return [part.decode() for part in f.read(RECORD).split()]


HISTORY = ('{"query":"query($a: ID!) { transactions(accountId: $a, first: 20) { edges { node { id amount '
           'description createdAt fromAccountNumber toAccountNumber } } pageInfo { hasNextPage endCursor } } }",'
           '"variables":{"a":"%s"}}')
TRANSFER = ('{"query":"mutation($i: TransferInput!) { transfer(input: $i) { id } }","variables":{"i":{"fromAccountId":'
            '"%s","toAccountNumber":"%s","amount":"0.01","idempotencyKey":"callgrind-%d-%d"}}}')


def cold_request(kind, i):
    """One request of `kind` for customer i (a transfer pays customer i + 1)."""
    token, account, _ = customer(i)
    if kind == "history-first":
        return request(PORT, "/graphql", token, (HISTORY % account).encode())
    if kind == "transfer-graphql":
        body = TRANSFER % (account, customer(i + 1)[2], i, int(time.time()))
        return request(PORT, "/graphql", token, body.encode())
    port, path, body = KINDS[kind]
    return request(port, path, token, body)


KINDS = {
    "hello": (HELLO, "/", None),
    "accounts-rest": (PORT, "/api/accounts", None),
    "accounts-graphql": (PORT, "/graphql", b'{"query":"{ accounts { id accountNumber type balance } }"}'),
}


def counted(out_file, pid, label, send):
    """Instructions per request of `send(i)` for i < N, counted in the process `pid` (whose
    callgrind output is `out_file`), with callgrind's inclusive report of them."""
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True)
    for i in range(N):
        send(i)
    subprocess.run(["callgrind_control", "-i", "off", str(pid)], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-d", label, str(pid)], check=True, capture_output=True)
    time.sleep(1)
    dump = max(Path(out_file).parent.glob(Path(out_file).name + "*"), key=os.path.getmtime)
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dump)],
                            capture_output=True, text=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", report).group(1).replace(",", ""))
    return total / N, report


def count(out_file, pid, kind, tokens):
    port, path, body = KINDS[kind]
    # The customers' reads warm (cached), as in the benchmark's steady state.
    for token in tokens[:200]:
        request(port, path, token, body)
    return counted(out_file, pid, kind, lambda i: request(port, path, tokens[i % 200], body))


def count_cold(out_file, pid, kind, start):
    """Instructions per request when every request is a new customer's, and those of the
    token check among them."""
    for k in range(50):  # the code paths warm, with customers not counted below
        cold_request(kind, start + k)
    per_request, report = counted(out_file, pid, kind, lambda i: cold_request(kind, start + 50 + i * 997))
    # The token check, however it went (inlined into `Auth::authorize`, so counted by its
    # parts, which do not call each other): remembered, the seal's digest and MAC, or the
    # signature and Datalog. The seal's Redis look-up runs in the connection's task.
    parts = r"api::auth::token::(?:TokenKeys::remembered|TokenKeys::unseal|seal_location|TokenKeys::verify)"
    found = re.findall(r"([\d,]+) \([ \d.]+%\)\s+\S*" + parts + r" ", report)
    return per_request, sum(int(n.replace(",", "")) for n in found) / N


def fill_caches():
    """A minute of cold `accounts` over GraphQL under wrk, not counted (see `--steady`)."""
    today = datetime.date.today()
    script = Path(__file__).resolve().parent / "scenario.lua"
    args = ["accounts-graphql", str(WORK / f"tokens-{CUSTOMERS}.txt"), "uniform", "2",
            str(WORK / f"deep-{CUSTOMERS}.txt"), (today - datetime.timedelta(days=364)).isoformat(), today.isoformat()]
    out = subprocess.run(["wrk", "-t2", "-c8", "-d60s", "-s", str(script), f"http://127.0.0.1:{PORT}/", "--", *args],
                         check=True, capture_output=True, text=True).stdout
    served = re.search(r"(\d+) requests in", out)
    print(f"caches filled by {served.group(1) if served else '?'} requests, nearly as many customers")


def main():
    tokens = [customer(i)[0] for i in range(200)]
    prefix = os.environ.get("BENCH_PREFIX")
    if not prefix and (WORK / f"prefix-{CUSTOMERS}.txt").exists():
        prefix = (WORK / f"prefix-{CUSTOMERS}.txt").read_text().strip()
    if not prefix:
        raise SystemExit("BENCH_PREFIX: the REDIS_KEY_PREFIX the tokens' sessions were registered under")
    out = WORK / "callgrind.out"
    for old in WORK.glob("callgrind.out*"):
        old.unlink()
    database = "banking_bench_scale" if COLD else "banking_bench_small"
    env = {**os.environ, "DATABASE_URL": f"{PG}/{database}", "REDIS_URL": "redis://127.0.0.1:6379",
           "REDIS_KEY_PREFIX": prefix, "BISCUIT_PRIVATE_KEY": KEY, "API_BIND": f"127.0.0.1:{PORT}",
           "METRICS_BIND": "127.0.0.1:0", "LOG_LEVEL": "warn", "ENVIRONMENT": "production",
           "SESSION_TTL_SECS": str(7 * 24 * 3600)}
    if not (RELEASE / "banking-api").is_file():
        raise SystemExit(f"{RELEASE / 'banking-api'} is missing: cargo build --release -p api -p web --bins "
                         "(and --examples for hello_axum), with the same CARGO_TARGET_DIR")
    vg = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    api = subprocess.Popen(vg + [str(RELEASE / "banking-api")], env=env, stderr=subprocess.DEVNULL)
    servers = [api]
    if not COLD:  # the trivial handler is a baseline for cached reads only
        hello = subprocess.Popen(vg[:3] + [f"--callgrind-out-file={WORK / 'callgrind.hello.out'}",
                                           str(RELEASE / "examples/hello_axum")],
                                 env={**os.environ, "BIND": f"127.0.0.1:{HELLO}"}, stderr=subprocess.DEVNULL)
        servers.append(hello)
    try:
        if not wait_http(f"http://127.0.0.1:{PORT}/ready", timeout=300) or \
                (not COLD and not wait_http(f"http://127.0.0.1:{HELLO}/", timeout=300)):
            raise SystemExit("the servers did not start under valgrind")
        if COLD and STEADY:
            fill_caches()
        if COLD:
            print(f"{N} requests each, every one a different customer of {CUSTOMERS:,}:")
            for n, kind in enumerate(["accounts-rest", "accounts-graphql", "history-first", "transfer-graphql"]):
                per_request, token = count_cold(out, api.pid, kind, 1000 + n * 100_000)
                print(f"{kind}: {per_request:,.0f} instructions per request, of which the token check "
                      f"{token:,.0f} ({token / per_request:.0%})")
            return
        results = {}
        results["hello"] = count(WORK / "callgrind.hello.out", hello.pid, "hello", tokens)
        for kind in ["accounts-rest", "accounts-graphql"]:
            results[kind] = count(out, api.pid, kind, tokens)
        for kind, (per_request, report) in results.items():
            print(f"{kind}: {per_request:,.0f} instructions per request")
        print()
        print(results["accounts-graphql"][1][:12000])
    finally:
        stop_processes(servers)


if __name__ == "__main__":
    main()
