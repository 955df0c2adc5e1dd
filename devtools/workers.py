"""Real Celery workers (`celery -A nss_portal worker`) as subprocesses, each in a process group of its own with its
log in a file, consuming one queue. Shared by the benchmarks, the drill and the test suite; never imported by the
application.

    workers = Workers(queue="nss-drill", log_dir=tmp, env={**os.environ, "DATABASE_URL": url, ...})
    worker = workers.start()        # returns once the worker logged " ready."
    workers.kill()                  # SIGKILL the last one started: nothing runs any shutdown code
    workers.stop_all()              # SIGTERM every one (SIGKILL after a while)
    beat = beat_start(log_dir=tmp, env=...)   # the one scheduler (`celery -A nss_portal beat`)
"""

import signal
import subprocess
import sys
from pathlib import Path

from devtools.processes import kill_group, wait_until

ROOT = Path(__file__).resolve().parent.parent


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path, name: str):
        self.process = process
        self.log_path = log_path
        self.name = name

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing runs any shutdown code."""
        kill_group(self.process, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM the process group (a warm shutdown), SIGKILL when it has not ended within 15 s."""
        kill_group(self.process, signal.SIGTERM, wait=15)


class Workers:
    """Starts workers on `queue` with the environment `env` (the whole environment, not additions), all of them
    named `<name>-<n>@<host>` and logging to `log_dir/<name>-<n>.log`."""

    def __init__(
        self,
        *,
        queue: str,
        log_dir: Path,
        env: dict[str, str],
        name: str | None = None,
        pool: str = "solo",
        concurrency: int = 1,
        ready_timeout: float = 60,
    ):
        self.queue = queue
        self.log_dir = Path(log_dir)
        self.env = env
        self.name = name or queue
        self.pool = pool
        self.concurrency = concurrency
        self.ready_timeout = ready_timeout
        self.all: list[Worker] = []
        self.current: Worker | None = None

    @property
    def count(self) -> int:
        """How many workers were started."""
        return len(self.all)

    def start(self, *, env: dict[str, str] | None = None, beat: bool = False) -> Worker:
        """Start one more worker (with `env` added to the launcher's; with the beat scheduler inside when `beat`) and
        return it once it is ready to consume."""
        name = f"{self.name}-{self.count + 1}"
        log_path = self.log_dir / f"{name}.log"
        command = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "nss_portal",
            "worker",
            "-P",
            self.pool,
            "--concurrency",
            str(self.concurrency),
            "-Q",
            self.queue,
            "-n",
            f"{name}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ]
        if beat:
            command += ["-B", "-s", str(self.log_dir / f"{name}-beat-schedule")]
        worker_env = {
            **self.env,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        with open(log_path, "wb") as log:  # the child keeps its own copy of the file
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=worker_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log_path, name)
        self.all.append(worker)
        self.current = worker

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"worker {name} exited with {process.returncode}:\n{worker.log()}")
            return " ready." in worker.log()

        wait_until(ready, timeout=self.ready_timeout, message=f"worker {name} ready")
        return worker

    def kill(self) -> None:
        """SIGKILL the worker started last."""
        if self.current is not None:
            self.current.kill()
            self.current = None

    def stop_all(self) -> None:
        for worker in self.all:
            worker.stop()


def beat_start(
    *, log_dir: Path, env: dict[str, str], name: str = "beat", ready_timeout: float = 60
) -> Worker:
    """The Celery beat scheduler (`celery -A nss_portal beat`) as a subprocess in a process group of its own, with
    the environment `env` (the whole environment) and its schedule file and log in `log_dir`; returned once it has
    started. Exactly one runs per deployment: each beat publishes every periodic task itself."""
    log_path = Path(log_dir) / f"{name}.log"
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "nss_portal",
        "beat",
        "-s",
        str(Path(log_dir) / f"{name}-schedule"),
        "-l",
        "info",
    ]
    with open(log_path, "wb") as log:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    beat = Worker(process, log_path, name)

    def started() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"beat exited with {process.returncode}:\n{beat.log()}")
        return "beat: Starting" in beat.log()

    wait_until(started, timeout=ready_timeout, message="celery beat started")
    return beat
