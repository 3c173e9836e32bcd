#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind: immune to whatever else the
machine runs (timings on 2 shared cores are not). Starts the release `banking-api` (and
the trivial handler) under callgrind with instrumentation off, warms up, counts exactly N
requests of each kind sent one at a time, and prints instructions per request with the
functions that cost the most (inclusive), so each step tried on the GraphQL read path can
be measured against the REST route and the trivial handler.

    python3 scripts/bench/callgrind.py [N]      # default 2000

Needs a database seeded by `just bench` (banking_bench_small) and Redis; tokens from
/tmp/banking-bench/tokens-10000.txt (the bench writes it)."""

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
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
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
        return r.read()


KINDS = {
    "hello": (HELLO, "/", None),
    "accounts-rest": (PORT, "/api/accounts", None),
    "accounts-graphql": (PORT, "/graphql", b'{"query":"{ accounts { id accountNumber type balance } }"}'),
}


def count(out_file, pid, kind, tokens):
    port, path, body = KINDS[kind]
    # The customers' reads warm (cached), as in the benchmark's steady state.
    for token in tokens[:200]:
        request(port, path, token, body)
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True)
    for i in range(N):
        request(port, path, tokens[i % 200], body)
    subprocess.run(["callgrind_control", "-i", "off", str(pid)], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-d", kind, str(pid)], check=True, capture_output=True)
    time.sleep(1)
    dumps = sorted(Path(out_file).parent.glob(Path(out_file).name + "*"), key=os.path.getmtime)
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dumps[-1])],
                            capture_output=True, text=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", report).group(1).replace(",", ""))
    return total / N, report


def main():
    tokens = [line.split()[0] for line in (WORK / "tokens-10000.txt").read_text().splitlines()[:200]]
    prefix = os.environ.get("BENCH_PREFIX")
    if not prefix:
        raise SystemExit("BENCH_PREFIX: the REDIS_KEY_PREFIX the tokens' sessions were registered under")
    out = WORK / "callgrind.out"
    for old in WORK.glob("callgrind.out*"):
        old.unlink()
    env = {**os.environ, "DATABASE_URL": f"{PG}/banking_bench_small", "REDIS_URL": "redis://127.0.0.1:6379",
           "REDIS_KEY_PREFIX": prefix, "BISCUIT_PRIVATE_KEY": KEY, "API_BIND": f"127.0.0.1:{PORT}",
           "METRICS_BIND": "127.0.0.1:0", "LOG_LEVEL": "warn", "ENVIRONMENT": "production",
           "SESSION_TTL_SECS": str(7 * 24 * 3600)}
    vg = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    api = subprocess.Popen(vg + [str(RELEASE / "banking-api")], env=env, stderr=subprocess.DEVNULL)
    hello = subprocess.Popen(vg[:3] + [f"--callgrind-out-file={WORK / 'callgrind.hello.out'}",
                                       str(RELEASE / "examples/hello_axum")],
                             env={**os.environ, "BIND": f"127.0.0.1:{HELLO}"}, stderr=subprocess.DEVNULL)
    try:
        if not wait_http(f"http://127.0.0.1:{PORT}/ready", timeout=120) or \
                not wait_http(f"http://127.0.0.1:{HELLO}/", timeout=120):
            raise SystemExit("the servers did not start under valgrind")
        results = {}
        results["hello"] = count(WORK / "callgrind.hello.out", hello.pid, "hello", tokens)
        for kind in ["accounts-rest", "accounts-graphql"]:
            results[kind] = count(out, api.pid, kind, tokens)
        for kind, (per_request, report) in results.items():
            print(f"{kind}: {per_request:,.0f} instructions per request")
        print()
        print(results["accounts-graphql"][1][:12000])
    finally:
        stop_processes([api, hello])


if __name__ == "__main__":
    main()
