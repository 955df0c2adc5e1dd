"""The suite runs against the real services in CI: Redis behind Django's cache and as Celery's broker."""

import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from nss_portal.celery import app as celery_app


@pytest.mark.redis
def test_django_cache_is_the_real_redis(require_redis):
    key, value = f"nss-test-{uuid.uuid4()}", "通関士ID"
    cache.set(key, value, timeout=30)
    client = redis.Redis.from_url(settings.REDIS_URL)
    # The value is really in Redis (Django prefixes keys with ":1:"), not in process memory.
    assert any(key in stored.decode() for stored in client.keys(f"*{key}*"))
    assert cache.get(key) == value
    cache.delete(key)
    assert client.keys(f"*{key}*") == []


@pytest.mark.redis
def test_celery_broker_is_the_configured_redis(require_redis):
    assert celery_app.conf.broker_url == settings.REDIS_URL
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.connected


def test_without_redis_celery_runs_tasks_eagerly(settings):
    if settings.REDIS_URL:
        pytest.skip("runs only on the embedded defaults")
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
