"""The shared home of the helpers the scripts under scripts/ have in common, each defined once.

- `ROOT`, the repository, and `cargo_target_dir()`, where cargo puts the builds;
- `Checks`, the counter behind the `ok NAME` / `FAIL NAME: DETAIL` lines and the closing
  `LABEL: N passed, M failed` line of the test scripts;
- `spare_port()`, `wait_http()`, `NoRedirect` and `stop_processes()`, for the scripts that
  start the release binaries and talk to them over HTTP;
- `GraphQLWebSocket`, a minimal graphql-transport-ws client (e2e through nginx, the
  subscription benchmark).

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
import base64
import struct
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


def proc_field(pid: int, file: str, name: str) -> str | None:
    """The first word of `name:`'s line in /proc/<pid>/<file> (`status`, `smaps_rollup`),
    or None when the kernel does not write that line."""
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split()[1]
    return None


class GraphQLWebSocket:
    """Just enough of a WebSocket client (RFC 6455, text frames, masked) for one
    graphql-transport-ws exchange through nginx."""

    def __init__(self, port, host, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        # Two small frames in a row would otherwise wait for a delayed ACK (40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ValueError("closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ValueError(head.decode(errors="replace")[:200])

    def send(self, message):
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(data))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ValueError("the connection closed")
            data += chunk
        return data

    def _frame(self):
        """The next frame from the server (unmasked): its opcode and payload."""
        first, second = self._exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exact(8))[0]
        return first & 0x0F, self._exact(length)

    def _pong(self, payload):
        mask = os.urandom(4)
        self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self, timeout):
        """The next text message as JSON (pings from the server are answered)."""
        self.sock.settimeout(timeout)
        while True:
            opcode, payload = self._frame()
            if opcode == 0x9:  # ping
                self._pong(payload)
            elif opcode == 0x8:
                raise ValueError(f"closed: {payload[2:].decode(errors='replace')}")
            elif opcode == 0x1:
                return json.loads(payload)

    def answer_pings(self):
        """Reads whatever has arrived, without waiting, and answers the server's pings (an
        idle client must, or the server takes it for gone)."""
        import select
        ready = select.poll()  # not select(): a benchmark holds more than 1024 sockets
        ready.register(self.sock, select.POLLIN)
        while ready.poll(0):
            self.sock.settimeout(1)
            opcode, payload = self._frame()
            if opcode == 0x9:
                self._pong(payload)

    def close(self):
        self.sock.close()
