"""The shared cache's Redis backend (REDIS_URL): Django's, with one redis-py client per
connection pool instead of one per operation.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache
operation, and redis-py 8 fills a table of about 170 response callbacks in each: 0.3 ms
of CPU an operation. Every SCIM request makes two (its address's refusal count and its
site's rate): a `GET /Users/{id}` took 4.35M instructions with Redis against 2.38M
counting in memory, 2.91M once the client is reused (issue 16). A client may be shared
between threads (each command takes a connection from the pool), so each pool gets one,
made at its first use.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # by id() of the pool, which lives as long as this object

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both make one at first: either serves.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
