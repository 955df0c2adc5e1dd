"""Production fails closed (SPEC §10): with DJANGO_PRODUCTION=true every process — management commands, the web
(gunicorn), the Celery worker and beat — refuses to start with one line naming what is missing or invalid; the
embedded defaults of `make run` are unchanged; the health endpoints answer over plain HTTP."""

import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from devtools.processes import free_port, kill_group, wait_until
from nss_portal.settings import INSECURE_DEFAULT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STRONG_SECRET_KEY = "k7Qz-Jx2vN9pL4tR8wYb3mC6hF1sD5gA0eU-oIqWnXrTyZuVcBa"
VALID = {
    "DJANGO_PRODUCTION": "true",
    "DJANGO_SECRET_KEY": STRONG_SECRET_KEY,
    "NSS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    # No connection is made by the refusals or by `check`: the database need not exist.
    "DATABASE_URL": "postgres://nss@127.0.0.1:5432/nss_never_connected",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "DJANGO_ALLOWED_HOSTS": "nss.example.jp,127.0.0.1",
    "NSS_BASE_URL": "https://nss.example.jp",
}


def environment(**changes: str | None) -> dict:
    """This process's environment without any of our settings, plus the valid production ones, plus `changes`
    (None removes a variable)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "NSS_", "CELERY_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(VALID)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(command: list[str], env: dict, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def assert_refused(result: subprocess.CompletedProcess, *phrases: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.startswith("nss-portal:")]
    assert result.returncode == 4, result.stdout + result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nss-portal: refusing to start: DJANGO_PRODUCTION=true but ")
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY is not set"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY is not set"),
        (
            {"DJANGO_SECRET_KEY": INSECURE_DEFAULT_SECRET_KEY},
            "DJANGO_SECRET_KEY is the embedded local default",
        ),
        ({"DJANGO_SECRET_KEY": "short-key"}, "DJANGO_SECRET_KEY is too weak"),
        ({"DJANGO_SECRET_KEY": "a" * 60}, "DJANGO_SECRET_KEY is too weak"),
        ({"NSS_ENCRYPTION_KEYS": None}, "NSS_ENCRYPTION_KEYS is not set"),
        ({"NSS_ENCRYPTION_KEYS": ""}, "NSS_ENCRYPTION_KEYS is not set"),
        (
            {"NSS_ENCRYPTION_KEYS": "not-a-fernet-key"},
            "NSS_ENCRYPTION_KEYS: key 1 of 1 is not a valid Fernet key",
        ),
        (
            {"NSS_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{'A' * 44}="},
            "NSS_ENCRYPTION_KEYS: key 2 of 2 is not a valid Fernet key",
        ),
        ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
        ({"DATABASE_URL": ""}, "DATABASE_URL is not set"),
        ({"DATABASE_URL": "sqlite:////tmp/nss-prod.sqlite3"}, "DATABASE_URL is not a PostgreSQL URL"),
        ({"REDIS_URL": None}, "REDIS_URL is not set"),
        ({"CELERY_TASK_ALWAYS_EAGER": "true"}, "CELERY_TASK_ALWAYS_EAGER=true"),
        # The links in e-mails: the embedded default (http://127.0.0.1:8000) would send customers nowhere.
        ({"NSS_BASE_URL": None}, "NSS_BASE_URL is not set"),
        ({"NSS_BASE_URL": "http://nss.example.jp"}, "NSS_BASE_URL is not an https:// address"),
    ],
)
def test_a_management_command_refuses_to_start_naming_the_setting(changes, phrase):
    result = run([sys.executable, "manage.py", "migrate", "--noinput"], environment(**changes))
    assert_refused(result, phrase)


def test_every_missing_setting_is_named_on_the_one_line():
    env = environment(DJANGO_SECRET_KEY=None, NSS_ENCRYPTION_KEYS=None, DATABASE_URL=None, REDIS_URL=None)
    assert_refused(
        run([sys.executable, "manage.py", "check"], env),
        "DJANGO_SECRET_KEY is not set",
        "NSS_ENCRYPTION_KEYS is not set",
        "DATABASE_URL is not set",
        "REDIS_URL is not set",
    )


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "celery"), "-A", "nss_portal", "worker", "--loglevel", "INFO"],
        [
            str(BIN / "celery"),
            "-A",
            "nss_portal",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(Path(tempfile.gettempdir()) / "nss-beat-refused"),
        ],
        [
            str(BIN / "gunicorn"),
            "nss_portal.wsgi:application",
            "--preload",
            "--workers",
            "2",
            "--bind",
            "127.0.0.1:0",
        ],
    ],
    ids=["worker", "beat", "web"],
)
def test_the_worker_beat_and_web_processes_refuse_to_start(command):
    # The compose file starts gunicorn with --preload: the settings load once, in the arbiter, which exits with the
    # one line (without it, each worker exits with code 4, "App failed to load", and the arbiter stops too).
    result = run(command, environment(NSS_ENCRYPTION_KEYS="broken"), timeout=60)
    assert_refused(result, "NSS_ENCRYPTION_KEYS: key 1 of 1 is not a valid Fernet key")


def test_an_invalid_encryption_key_is_refused_outside_production_too():
    result = run(
        [sys.executable, "manage.py", "check"], environment(DJANGO_PRODUCTION=None, NSS_ENCRYPTION_KEYS="x")
    )
    assert result.returncode == 4
    assert (
        "nss-portal: refusing to start: NSS_ENCRYPTION_KEYS: key 1 of 1 is not a valid Fernet key"
        in result.stderr
    )


def test_the_embedded_defaults_still_start_with_nothing_set(tmp_path):
    env = {
        key: value
        for key, value in environment().items()
        if key not in VALID or key == "DJANGO_ALLOWED_HOSTS"
    }
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("command", ["load_demo", "demo_totp"])
def test_demo_data_can_never_be_loaded_or_read_in_production(command):
    args = [sys.executable, "manage.py", command] + (["demo-reviewer"] if command == "demo_totp" else [])
    result = run(args, environment())
    assert result.returncode == 1
    assert f"CommandError: {command} is for the local demo only" in result.stderr
    # Refused before the database was touched (it does not exist: a connection attempt would say so).
    assert "OperationalError" not in result.stderr


def test_check_deploy_is_clean_with_every_production_setting():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_health_endpoints_answer_over_plain_http_in_production(require_postgres, require_redis, settings):
    """A production gunicorn on loopback: /healthz and /readyz answer 200 over plain HTTP (load balancers probe
    them inside the network), every other page redirects to HTTPS."""
    from django.db import connection

    port = free_port()
    database = connection.settings_dict
    env = environment(
        DATABASE_URL=f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        REDIS_URL=settings.REDIS_URL,
    )
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "nss_portal.wsgi:application",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def get(path: str):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": "nss.example.jp"})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=5) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    try:
        wait_until(lambda: _answers(get), timeout=30, message="gunicorn did not answer")
        status, _headers, body = get("/healthz")
        assert (status, body) == (200, b'{"status": "ok"}')
        status, _headers, body = get("/readyz")
        assert status == 200, body
        status, headers, _body = get("/login/")
        assert status == 301
        assert headers["Location"] == "https://nss.example.jp/login/"
    finally:
        kill_group(process, 15)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _answers(get) -> bool:
    try:
        get("/healthz")
    except OSError:
        return False
    return True
