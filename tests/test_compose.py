"""The full stack's docker-compose.yml (this project's machines have no Docker engine to run it). Rather than
restate the file, these check what would break it: the environment the app services get must be one the settings
read and accept, the health conditions others wait for must exist, web and worker must scale, and the proxy count
must match the proxies in front of the web containers."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat", "migrate")
REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]*\}$")  # ${NAME:?message}: the operator must supply it


def app_environment() -> dict[str, str]:
    return SERVICES["web"]["environment"]


def test_the_app_services_share_one_environment_that_the_settings_read():
    settings_source = (ROOT / "nss_portal" / "settings.py").read_text(encoding="utf-8")
    environments = [SERVICES[name]["environment"] for name in APP_SERVICES]
    assert all(environment == environments[0] for environment in environments)
    for key in environments[0]:
        assert re.search(rf'["\']{key}["\']', settings_source), f"{key} is not read by the settings"


def test_the_settings_accept_the_compose_environment():
    """`manage.py check` under exactly the app services' environment (the operator's secrets filled in): a wrong
    class path, a malformed URL or key, or a value the settings refuse fails here instead of in the container."""
    environment = {}
    for key, value in app_environment().items():
        required = REQUIRED.match(str(value))
        if required and required.group(1) == "NSS_ENCRYPTION_KEYS":
            value = Fernet.generate_key().decode()
        elif required:
            value = secrets.token_urlsafe(50)
        environment[key] = str(value)
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**keep, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_health_condition_waited_for_has_a_health_check():
    waited = {
        dependency
        for service in SERVICES.values()
        for dependency, condition in (service.get("depends_on") or {}).items()
        if condition.get("condition") == "service_healthy"
    }
    assert waited, "nothing waits for a healthy service"
    for name in waited | {"worker"}:
        assert "healthcheck" in SERVICES[name], f"{name} is waited for but has no health check"
    # Web is healthy when it can serve: the readiness endpoint checks the database and Redis.
    assert "/readyz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_web_and_worker_can_be_scaled():
    # A fixed host port or container name would make a second web container fail to start; the proxy publishes
    # the one port and resolves "web" at request time, so new containers are found.
    for name in ("web", "worker"):
        assert "ports" not in SERVICES[name], name
        assert "container_name" not in SERVICES[name], name
    nginx = (ROOT / "docker" / "nginx.conf").read_text(encoding="utf-8")
    assert "http://web:8000" in nginx and "resolver 127.0.0.11" in nginx


def test_the_trusted_proxy_count_matches_the_one_nginx_in_front_of_the_web_containers():
    """Without it, the login lockouts would see the proxy's address for every client and lock everyone at once."""
    nginx = (ROOT / "docker" / "nginx.conf").read_text(encoding="utf-8")
    appending_proxies = nginx.count("X-Forwarded-For $proxy_add_x_forwarded_for")
    assert appending_proxies == 1
    assert app_environment()["NSS_TRUSTED_PROXY_COUNT"] == str(appending_proxies)
    assert "--preload" in SERVICES["web"]["command"]  # a misconfigured web container stops with one line
