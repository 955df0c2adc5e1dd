"""Process helpers: free loopback ports, bounded waits, process-group kills, and a private redis-server that is
never the shared one on 6379. Shared by the benchmarks, the drill and the test suite; never imported by the
application."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float = 60, interval: float = 0.1, message: str = ""):
    """Poll `predicate` until it returns something true (returned) or `timeout` seconds pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s: {message}")


def kill_group(process: subprocess.Popen | None, sig: int, wait: float = 10.0) -> None:
    """Send `sig` to the process group of `process` (started with start_new_session) and reap it."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


class PrivateRedis:
    """A redis-server of its own on a loopback port, keeping nothing on disk; stop() is an operator's SIGTERM."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = Path(log_dir) / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self.answers, timeout=15, message=f"redis-server on {self.port} answers PING")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        kill_group(self.process, signal.SIGTERM)
        self.process = None
        wait_until(lambda: not self.answers(), timeout=10, message="redis-server stopped")


def gunicorn_start(*, port: int, workers: int, env: dict[str, str], timeout: float = 30) -> subprocess.Popen:
    """The project's WSGI app under gunicorn on 127.0.0.1:`port`, returned once /healthz answers 200 (the benchmarks
    start it so); SystemExit if it exits or stays silent for `timeout` seconds."""
    import http.client
    import sys

    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "nss_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s")
