"""The shared home of the helpers the scripts under scripts/ have in common, each defined once.

- `ROOT`, the repository, and `cargo_target_dir()`, where cargo puts the builds;
- `Checks`, the counter behind the `ok NAME` / `FAIL NAME: DETAIL` lines and the closing
  `LABEL: N passed, M failed` line of the test scripts;
- `spare_port()`, `wait_http()`, `NoRedirect` and `stop_processes()`, for the scripts that
  start the release binaries and talk to them over HTTP.

Standard library only: every script can import it before checking its own dependencies.
scripts/*.py import it as `support` (their directory is on sys.path when run as
`python3 scripts/NAME.py`); scripts/bench/run.py puts scripts/ on sys.path first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cargo_target_dir() -> Path:
    """Where cargo builds: $CARGO_TARGET_DIR (scripts/test exports it), else what cargo says
    (a cargo config's build.target-dir, else ./target), the directory `cargo run` uses too."""
    if os.path.isabs(os.environ.get("CARGO_TARGET_DIR", "")):
        return Path(os.environ["CARGO_TARGET_DIR"])
    metadata = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return Path(json.loads(metadata)["target_directory"])


class Checks:
    """Named checks, counted and printed as they happen: `ok NAME` or `FAIL NAME: DETAIL`."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def ok(self, name: str) -> None:
        self.passed += 1
        print(f"ok {name}", flush=True)

    def fail(self, name: str, detail: str = "") -> None:
        self.failed += 1
        print(f"FAIL {name}: {detail}", flush=True)

    def check(self, name: str, condition: object, detail: str = "") -> bool:
        """Counts and prints one check; returns whether it passed."""
        if condition:
            self.ok(name)
        else:
            self.fail(name, detail)
        return bool(condition)

    def summary(self, label: str) -> str:
        """The closing line: `LABEL: N passed, M failed`."""
        return f"{label}: {self.passed} passed, {self.failed} failed"

    def exit_code(self) -> int:
        return 1 if self.failed else 0


def spare_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60, host: str | None = None, *,
              request_timeout: float = 2, poll: float = 0.1) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (with `Host: host` when given),
    asking again `poll` seconds after each failed attempt."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url)
            if host:
                req.add_header("Host", host)
            with urllib.request.urlopen(req, timeout=request_timeout) as r:
                if r.status == 200:
                    return True
        except Exception:
            time.sleep(poll)
    return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """For an opener that hands back a redirect as it is, as the checks want to see it."""

    def redirect_request(self, *args, **kwargs):
        return None


def stop_processes(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM to each process still running, then wait for each, killing any that outlasts
    `timeout` seconds."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
