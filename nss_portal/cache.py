"""The Redis cache (sessions, the UTB gateway's verified credentials, rate limits): Django's own backend, keeping
one redis-py client per connection pool. Django's client makes a new `redis.Redis` for every cache call, and its
constructor costs as much as the GET it serves (about 0.1 ms here, README "Performance"). A client is safe to share:
each command takes a connection from the pool and gives it back; the pools are Django's."""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
