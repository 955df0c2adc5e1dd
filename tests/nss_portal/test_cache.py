"""nss_portal/cache.py: Django's Redis cache with one redis-py client per connection pool, on the real Redis."""

import threading
import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

from nss_portal.cache import RedisCache

pytestmark = pytest.mark.redis


def test_the_portals_cache_is_this_backend(require_redis):
    assert isinstance(caches["default"], RedisCache)


def test_every_call_uses_the_same_client_of_the_same_pool(require_redis):
    backend = RedisCache(settings.REDIS_URL, {})
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client
    key = f"nss-test-{uuid.uuid4()}"
    assert backend.add(key, 1, timeout=30) is True
    assert backend.add(key, 2, timeout=30) is False
    assert backend.incr(key) == 2
    assert backend.get_many([key, "absent"]) == {key: 2}
    backend.delete(key)
    assert backend.get(key, "gone") == "gone"
    assert backend._cache.get_client() is client


def test_threads_sharing_the_client_each_read_their_own_values(require_redis):
    """One client, many threads (gunicorn threads, Celery): each command borrows its own connection of the pool."""
    backend = RedisCache(settings.REDIS_URL, {})
    prefix = f"nss-test-{uuid.uuid4()}"
    wrong = []

    def work(number: int) -> None:
        for round_ in range(50):
            key, value = f"{prefix}-{number}", f"{number}:{round_}"
            backend.set(key, value, timeout=30)
            if backend.get(key) != value:
                wrong.append((key, value))

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert wrong == []
    assert backend.get_many([f"{prefix}-{number}" for number in range(8)]) == {
        f"{prefix}-{number}": f"{number}:49" for number in range(8)
    }
    backend.delete_many([f"{prefix}-{number}" for number in range(8)])
