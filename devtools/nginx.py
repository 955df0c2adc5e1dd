"""Debian's nginx as the load balancer of the scale drill: round-robin over web instances on the loopback interface,
run in the foreground from a directory of its own (configuration, pid, logs, temporary files), in a process group of
its own. Shared by the benchmarks, the drills and the test suite; never imported by the application.

    balancer = Nginx(directory=tmp, port=free_port(), upstreams=[port_a, port_b])
    balancer.start()                # returns once it answers on 127.0.0.1:<port>
    records = balancer.access_log() # one AccessRecord per request, with the instance(s) nginx passed it to
    balancer.stop()

A request whose instance fails (connection refused or reset, timeout, a 502) is passed to the next instance only
when it is idempotent: nginx's own rule, kept as it is (no `non_idempotent`), so a POST that may have reached an
instance is never sent twice; the client gets the 502 and decides.
"""

import contextlib
import shutil
import signal
import socket
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from devtools.processes import kill_group, wait_until

# The request header the drill's client names its journey with; the access log records it.
JOURNEY_HEADER = "X-Drill-Journey"
# Tab-separated: when, method, status, URI, the instance(s) tried and what each answered, the journey.
LOG_FORMAT = "$msec\\t$request_method\\t$status\\t$request_uri\\t$upstream_addr\\t$upstream_status\\t$http_x_drill_journey"
# How long an instance that failed is left out of the rotation before nginx tries it again.
FAIL_TIMEOUT_SECONDS = 3


def nginx_config(*, directory: Path, port: int, upstreams: list[int]) -> str:
    """The whole nginx.conf: listen on 127.0.0.1:`port`, round-robin over 127.0.0.1:`upstreams`, every path it
    writes under `directory`."""
    directory = Path(directory)
    servers = "\n".join(
        f"        server 127.0.0.1:{upstream} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;"
        for upstream in upstreams
    )
    temp = "\n".join(
        f"    {kind}_temp_path {directory / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Written by devtools/nginx.py for one run; everything it writes stays in {directory}.
daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;

events {{
    worker_connections 512;
}}

http {{
    log_format drill "{LOG_FORMAT}";
    access_log {directory / "access.log"} drill;
{temp}

    upstream portal {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;

        location / {{
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Another instance for an idempotent request whose instance failed; never for a POST that was sent.
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries {len(upstreams)};
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


@dataclass
class AccessRecord:
    at: float
    method: str
    status: int
    uri: str
    upstreams: list[str]  # every instance nginx passed the request to, in order ("-" entries left out)
    upstream_statuses: list[str]
    journey: str

    @property
    def answered_by(self) -> str:
        """The instance whose answer the client got ("" when nginx answered itself)."""
        return self.upstreams[-1] if self.upstreams else ""

    @property
    def retried(self) -> bool:
        return len(self.upstreams) > 1


def parse_access_log(text: str) -> list[AccessRecord]:
    """The records of an access log written with LOG_FORMAT; lines of another shape are skipped."""
    records = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 7:
            continue
        at, method, status, uri, addresses, statuses, journey = parts
        try:
            record = AccessRecord(
                at=float(at),
                method=method,
                status=int(status),
                uri=uri,
                # "127.0.0.1:8001, 127.0.0.1:8002" when retried; a " : " separates internal redirects.
                # nginx names the upstream group instead of an address when no instance was left to try.
                upstreams=[a for a in addresses.replace(" : ", ", ").split(", ") if ":" in a],
                upstream_statuses=[s for s in statuses.replace(" : ", ", ").split(", ") if s and s != "-"],
                journey="" if journey == "-" else journey,
            )
        except ValueError:
            continue
        records.append(record)
    return records


def answered_per_instance(records: list[AccessRecord]) -> Counter:
    """How many requests each instance answered (the last one nginx passed the request to)."""
    return Counter(record.answered_by for record in records if record.answered_by)


def instances_per_journey(records: list[AccessRecord]) -> dict[str, set[str]]:
    """The instances that answered each journey's requests."""
    journeys: dict[str, set[str]] = {}
    for record in records:
        if record.journey and record.answered_by:
            journeys.setdefault(record.journey, set()).add(record.answered_by)
    return journeys


def journeys_on_one_instance(records: list[AccessRecord], *, outages: list[tuple[float, float]]) -> list[str]:
    """The journeys all of whose requests one instance answered although at least one of them was answered while
    no instance was out (`outages`: epoch intervals when one was down): with round-robin over two instances, a
    journey of more than a few requests sees both unless it ran entirely while one was down."""
    served: dict[str, set[str]] = {}
    outside: set[str] = set()
    for record in records:
        if not record.journey or not record.answered_by:
            continue
        served.setdefault(record.journey, set()).add(record.answered_by)
        if not any(start <= record.at <= end for start, end in outages):
            outside.add(record.journey)
    return sorted(
        journey for journey, instances in served.items() if len(instances) == 1 and journey in outside
    )


class Nginx:
    def __init__(self, *, directory: Path, port: int, upstreams: list[int]):
        self.directory = Path(directory)
        self.port = port
        self.upstreams = upstreams
        self.process: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.directory / "nginx.conf"

    @property
    def access_log_path(self) -> Path:
        return self.directory / "access.log"

    def start(self, timeout: float = 15) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
        (self.directory / "temp").mkdir(parents=True, exist_ok=True)
        # Run as root, nginx's worker runs as nobody: it must be able to reach its temporary directories.
        self.directory.chmod(0o755)
        self.config_path.write_text(
            nginx_config(directory=self.directory, port=self.port, upstreams=self.upstreams)
        )
        with open(self.directory / "nginx.out", "ab") as out:
            self.process = subprocess.Popen(
                [
                    binary,
                    "-p",
                    str(self.directory),
                    "-c",
                    str(self.config_path),
                    "-e",
                    str(self.directory / "error.log"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def listening() -> bool:
            if self.process.poll() is not None:
                raise SystemExit(f"nginx exited at start:\n{self.error_log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
            return False

        wait_until(listening, timeout=timeout, interval=0.1, message=f"nginx listening on {self.port}")

    def error_log(self) -> str:
        with contextlib.suppress(FileNotFoundError):
            return (self.directory / "error.log").read_text(errors="replace")
        return ""

    def access_log(self) -> list[AccessRecord]:
        with contextlib.suppress(FileNotFoundError):
            return parse_access_log(self.access_log_path.read_text(errors="replace"))
        return []

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGQUIT (nginx's graceful stop) to its process group, SIGKILL when it has not ended within 10 s."""
        kill_group(self.process, signal.SIGQUIT)
        self.process = None
