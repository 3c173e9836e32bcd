#!/usr/bin/env python3
"""`just bench-subscriptions`: what live subscriptions cost a release `banking-api`.

Two api processes (replicas) on one PostgreSQL database and one Redis, as deployed:
1. Memory: N idle subscriptions (one WebSocket each, as a browser's dashboard holds) are
   opened on replica A in steps; A's resident memory (VmRSS) is read after each step. The
   cost of one is the slope; the number that fits the api pod's memory limit (512 MiB,
   kustomize/base) is extrapolated from it and printed next to what was measured.
2. Delay: subscribers on replica B, transfers to them committed through replica A by a few
   concurrent clients (the transfer scenario); for each update, the time from the
   transaction's createdAt (written in the committing transaction) to its arrival at the
   subscriber, p50 and p99. Same machine, same clock.

Environment: SUBS_STEPS (default "2000,4000,8000,16000"), SUBS_TRANSFERS (default 1000),
SUBS_WORKERS (default 4), BANKING_API_BIN, BENCH_PG, BENCH_REDIS. Prints a Markdown section for
docs/benchmarks.md."""

import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import GraphQLWebSocket, cargo_target_dir, spare_port, stop_processes, wait_http  # noqa: E402

RELEASE = cargo_target_dir() / "release"
# The binary under test: BANKING_API_BIN when set (a copy kept aside), else the release build.
API_BIN = Path(os.environ.get("BANKING_API_BIN") or RELEASE / "banking-api")
PG_ADMIN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
STEPS = [int(n) for n in os.environ.get("SUBS_STEPS", "2000,4000,8000,16000").split(",")]
TRANSFERS = int(os.environ.get("SUBS_TRANSFERS", "1000"))
WORKERS = int(os.environ.get("SUBS_WORKERS", "4"))
POD_LIMIT = 512 * 1024 * 1024
KEY = "6a" * 32
SUBSCRIBE = {"query": "subscription { accountUpdated { account { balance } transaction { id createdAt } } }"}


def gql(port, query, variables=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(), headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def subscribe(port, token):
    ws = GraphQLWebSocket(port, f"127.0.0.1:{port}", "/graphql/ws")
    ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    if ws.receive(10).get("type") != "connection_ack":
        raise RuntimeError("no connection_ack")
    ws.send({"id": "1", "type": "subscribe", "payload": SUBSCRIBE})
    ws.send({"type": "ping"})
    ws.receive(10)  # the pong: the subscription is registered
    return ws


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = max(STEPS) + 200
    if hard < need:
        sys.exit(f"open files limit {hard} is below {need}")
    database = f"banking_bench_subs_{uuid.uuid4().hex[:8]}"
    base = PG_ADMIN.rsplit("/", 1)[0]
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {database}"], check=True)
    url = f"{base}/{database}"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS, "REDIS_KEY_PREFIX": f"bench:{database}:",
           "BISCUIT_PRIVATE_KEY": KEY, "LOG_LEVEL": "warn", "SUBSCRIPTIONS_MAX": "1000000",
           "SUBSCRIPTIONS_PER_USER": "100000", "MAX_CONNECTIONS": "100000", "WS_IDLE_TIMEOUT_SECS": "86400"}
    subprocess.run([API_BIN, "migrate"], env=env, check=True)
    procs, sockets = [], []
    try:
        ports = [spare_port(), spare_port()]
        for port in ports:
            procs.append(subprocess.Popen([API_BIN], env={**env, "API_BIND": f"127.0.0.1:{port}", "METRICS_BIND": "127.0.0.1:0"}))
        for port in ports:
            if not wait_http(f"http://127.0.0.1:{port}/ready"):
                sys.exit("the api did not start")
        a, b = ports
        people = []
        for n in range(100):
            body = gql(a, "mutation($i: SignupInput!) { signup(input: $i) { token user { accounts { id accountNumber } } } }",
                       {"i": {"username": f"subs{n}", "password": "bench-password-1", "email": f"subs{n}@example.com"}})
            s = body["data"]["signup"]
            people.append((s["token"], s["user"]["accounts"][0]["id"], s["user"]["accounts"][0]["accountNumber"]))
        for token, account, _ in people[:WORKERS]:
            gql(a, "mutation($i: DepositInput!) { deposit(input: $i) { id } }",
                {"i": {"accountId": account, "amount": "1000000.00", "idempotencyKey": str(uuid.uuid4())}}, token)

        # 1. Memory per idle subscription on replica A.
        time.sleep(1)
        baseline = rss(procs[0].pid)
        rows = [(0, baseline, len(os.listdir(f"/proc/{procs[0].pid}/fd")))]
        last_pump = time.monotonic()

        def pump():
            # The api pings every 30 s and drops a peer silent for 75 s.
            for ws in sockets:
                ws.answer_pings()

        for step in STEPS:
            while len(sockets) < step:
                sockets.append(subscribe(a, people[len(sockets) % len(people)][0]))
                if time.monotonic() - last_pump > 10:
                    pump()
                    last_pump = time.monotonic()
            time.sleep(2)
            pump()
            rows.append((step, rss(procs[0].pid), len(os.listdir(f"/proc/{procs[0].pid}/fd"))))
        # The allocator grows in steps, so the cost is taken as the steepest step seen
        # (the first, from no subscription, included): the estimate errs on the low side.
        slopes = [(r1 - r0) / (n1 - n0) for (n0, r0, _), (n1, r1, _) in zip(rows, rows[1:])]
        per = max(slopes)
        average = (rows[-1][1] - baseline) / rows[-1][0]
        fits = int((POD_LIMIT - baseline) / per) if per > 0 else 0
        for ws in sockets:
            ws.close()
        sockets.clear()

        # 2. Commit-to-delivery delay: subscribers on B, transfers through A.
        receivers = people[WORKERS:WORKERS + 50]
        delays, lock = [], threading.Lock()
        expected = TRANSFERS
        done = threading.Event()

        def listen(ws):
            while not done.is_set():
                try:
                    message = ws.receive(2)
                except (OSError, ValueError):
                    continue
                arrived = datetime.datetime.now(datetime.timezone.utc)
                update = ((message.get("payload") or {}).get("data") or {}).get("accountUpdated")
                if update:
                    created = datetime.datetime.fromisoformat(update["transaction"]["createdAt"].replace("Z", "+00:00"))
                    with lock:
                        delays.append((arrived - created).total_seconds() * 1000)
                        if len(delays) >= expected:
                            done.set()

        listeners = [subscribe(b, token) for token, _, _ in receivers]
        threads = [threading.Thread(target=listen, args=(ws,), daemon=True) for ws in listeners]
        for t in threads:
            t.start()

        def send(worker):
            token, account, _ = people[worker]
            for n in range(worker, TRANSFERS, WORKERS):
                target = receivers[n % len(receivers)][2]
                gql(a, "mutation($i: TransferInput!) { transfer(input: $i) { id } }",
                    {"i": {"fromAccountId": account, "toAccountNumber": target, "amount": "1.00", "idempotencyKey": str(uuid.uuid4())}}, token)

        started = time.monotonic()
        senders = [threading.Thread(target=send, args=(w,)) for w in range(WORKERS)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        elapsed = time.monotonic() - started
        done.wait(10)
        done.set()
        for ws in listeners:
            ws.close()
        ordered = sorted(delays)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

        mib = 1024 * 1024
        print("## Live subscriptions (scripts/bench/subscriptions.py)\n")
        print(f"Release `banking-api`, two replicas on one PostgreSQL and one Redis, {datetime.date.today()}.\n")
        print("| idle subscriptions on replica A | RSS | open files |")
        print("|---|---|---|")
        for n, r, files in rows:
            print(f"| {n:,} | {r / mib:.1f} MiB | {files:,} |")
        print(f"\nOne idle subscription (its WebSocket, the protocol engine, the hub's queue) costs "
              f"{average / 1024:.1f} KiB on average over {rows[-1][0]:,} and at most {per / 1024:.1f} KiB in any step; "
              f"at the steepest, from a baseline of {baseline / mib:.0f} MiB, {fits:,} fit in the api pod's "
              f"512 MiB limit (measured up to {STEPS[-1]:,}).\n")
        print(f"Commit to delivery, {len(delays)} of {expected} updates received, {TRANSFERS} transfers through replica A "
              f"by {WORKERS} clients ({TRANSFERS / elapsed:.0f}/s), 50 subscribers on replica B (through Redis): "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms.")
        return 0 if len(delays) == expected else 1
    finally:
        for ws in sockets:
            ws.close()
        stop_processes(procs)
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {database}"], check=False)


if __name__ == "__main__":
    sys.exit(main())
