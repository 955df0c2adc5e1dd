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


def gunicorn_start(
    *,
    port: int,
    workers: int,
    env: dict[str, str],
    timeout: float = 30,
    log_path: Path | None = None,
    new_session: bool = False,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen:
    """The project's WSGI app under gunicorn on 127.0.0.1:`port`, returned once /healthz answers 200 (the benchmarks
    start it so); SystemExit if it exits or stays silent for `timeout` seconds. `extra_args` go to gunicorn as they
    are (`--worker-class gthread --threads 2`). With `log_path` its output goes to
    that file; with `new_session` the master and its workers are a process group of their own (kill_group ends them
    all, and a Ctrl-C in the terminal does not reach them)."""
    import sys

    root = Path(__file__).resolve().parent.parent
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - the child keeps its own copy
    try:
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
                *extra_args,
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT if log else None,
            start_new_session=new_session,
        )
    finally:
        if log:
            log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited at start" + (f" (see {log_path})" if log_path else ""))
        if healthz(port):
            return process
        time.sleep(0.2)
    if new_session:
        kill_group(process, signal.SIGKILL)
    else:
        process.kill()
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s")


def healthz(port: int, timeout: float = 2) -> bool:
    """Whether the web process on 127.0.0.1:`port` answers /healthz with 200."""
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        finally:
            connection.close()
    except OSError:
        return False
