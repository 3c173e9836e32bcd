"""What the machine did while a measurement ran, to tell where a stall came from.

Two bench-scale runs saw the concurrency curve stall right after the sweep (p99 of 771 ms
at 8 connections with a p50 of 4 ms: every connection waited about a second at once)
and two did not. A `Probe` running beside a measurement asks each component for the
smallest thing it can answer every 100 ms, on a connection it keeps open, and keeps the
slowest answer: Redis `PING`, a count of PostgreSQL's autovacuum workers, the api's `/ping`. It also takes
what the kernel, PostgreSQL and Redis count before and after: a stall in one component
shows in its own probe and its own counters, and in no other.
"""

import http.client
import socket
import subprocess
import threading
import time
from pathlib import Path

INTERVAL = 0.1
# Reclaim and compaction the kernel did synchronously, in the path of an allocation.
VMSTAT_STALLS = ("allocstall_normal", "allocstall_movable", "compact_stall", "pgscan_direct")
AUTOVACUUM_WORKERS = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker';\n"


def vmstat():
    fields = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
    return sum(int(fields.get(name, 0)) for name in VMSTAT_STALLS)


class Probe:
    def __init__(self, pg_url, redis_host, redis_port, api_port):
        self.pg_url, self.redis, self.api_port = pg_url, (redis_host, redis_port), api_port
        self.worst = {"redis": 0.0, "postgres": 0.0, "api": 0.0}
        self.autovacuum = 0  # probes that found an autovacuum worker running
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self.before = self._counters()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        after = self._counters()
        self.deltas = {name: after[name] - self.before[name] for name in after}

    def report(self):
        """Worst round trips in ms, and the counters' growth while it ran."""
        return {**{f"worst_{k}_ms": round(v * 1000, 1) for k, v in self.worst.items()},
                **self.deltas, "autovacuum_seen": self.autovacuum}

    def _psql(self, sql):
        return subprocess.run(["psql", self.pg_url, "-qAtXc", sql], check=True, capture_output=True,
                              text=True).stdout.strip()

    def _redis_info(self):
        """Redis's INFO, every field by name (as text)."""
        out = subprocess.run(["redis-cli", "-h", self.redis[0], "-p", str(self.redis[1]), "INFO", "all"],
                             check=True, capture_output=True, text=True).stdout
        return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)

    def _counters(self):
        info = self._redis_info()
        return {"checkpoints": int(self._psql("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")),
                "redis_expired_keys": int(info.get("expired_keys", 0)),
                "redis_forks": int(info.get("total_forks", 0)),
                "kernel_direct_reclaim": vmstat()}

    def _run(self):
        redis = socket.create_connection(self.redis, timeout=10)
        pg = subprocess.Popen(["psql", self.pg_url, "-qAtX"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, bufsize=1)
        api = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=10)
        try:
            # Once untimed: the first answers include connecting.
            redis.sendall(b"PING\r\n"), redis.recv(64)
            pg.stdin.write(AUTOVACUUM_WORKERS), pg.stdout.readline()
            api.request("GET", "/ping"), api.getresponse().read()
            while not self._stop.is_set():
                self._time("redis", lambda: (redis.sendall(b"PING\r\n"), redis.recv(64)))
                # The probe's query is itself small: are autovacuum workers running?
                workers = self._time("postgres", lambda: (pg.stdin.write(AUTOVACUUM_WORKERS), pg.stdout.readline()))
                self.autovacuum += int(workers[1]) > 0
                self._time("api", lambda: (api.request("GET", "/ping"), api.getresponse().read()))
                self._stop.wait(INTERVAL)
        finally:
            redis.close()
            pg.stdin.close()
            pg.wait()
            api.close()

    def _time(self, name, ask):
        started = time.perf_counter()
        answer = ask()
        self.worst[name] = max(self.worst[name], time.perf_counter() - started)
        return answer
