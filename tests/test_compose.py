"""The full stack's docker-compose.yml, checked as a file (this project's machines have no Docker engine to run
it): every service of SPEC §7 is there, wired to the settings the code reads, with health checks, and web and
worker can be scaled."""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def test_every_service_of_the_full_stack_is_there():
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit", "migrate", "proxy"} <= set(SERVICES)


def test_the_app_services_share_one_environment_that_the_settings_read():
    settings_source = (ROOT / "nss_portal" / "settings.py").read_text(encoding="utf-8")
    environments = [SERVICES[name]["environment"] for name in ("web", "worker", "beat", "migrate")]
    assert all(environment == environments[0] for environment in environments)
    for key in environments[0]:
        assert re.search(rf'["\']{key}["\']', settings_source), f"{key} is not read by the settings"
    assert environments[0]["EMAIL_HOST"] == "mailpit"
    assert environments[0]["REDIS_URL"].startswith("redis://redis:")
    assert environments[0]["DATABASE_URL"].startswith("postgres://")


def test_health_checks_on_every_long_running_service():
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in SERVICES[name], name
    assert "/readyz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_web_and_worker_can_be_scaled():
    # A fixed host port would make a second web container fail to start; the proxy publishes the one port.
    for name in ("web", "worker"):
        assert "ports" not in SERVICES[name], name
        assert "container_name" not in SERVICES[name], name
    assert SERVICES["proxy"]["ports"] == ["127.0.0.1:8000:8000"]
    nginx = (ROOT / "docker" / "nginx.conf").read_text(encoding="utf-8")
    assert "http://web:8000" in nginx and "resolver 127.0.0.11" in nginx


def test_the_workers_run_the_celery_app_of_the_settings():
    assert SERVICES["worker"]["command"].startswith("celery -A nss_portal worker")
    assert SERVICES["beat"]["command"].startswith("celery -A nss_portal beat")
    assert "notifications.tasks.email_requeue_unsent" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_mailpit_has_its_web_ui_published_on_loopback():
    assert "127.0.0.1:8025:8025" in SERVICES["mailpit"]["ports"]


def test_the_trusted_proxy_count_matches_the_one_nginx_in_front_of_the_web_containers():
    """Without it, the login lockouts would see the proxy's address for every client and lock everyone at once."""
    nginx = (ROOT / "docker" / "nginx.conf").read_text(encoding="utf-8")
    appending_proxies = nginx.count("X-Forwarded-For $proxy_add_x_forwarded_for")
    assert appending_proxies == 1
    assert SERVICES["web"]["environment"]["NSS_TRUSTED_PROXY_COUNT"] == str(appending_proxies)
    assert "--preload" in SERVICES["web"]["command"]  # a misconfigured web container stops with one line
