"""Counters shared by every worker and node through Redis (REDIS_URL): the API rate limit
and the sign-in lock hold exactly, however many requests race.

These run against the Redis server on this machine (.ci/run starts it when it is down).
The two-node test (tests/deploy) checks the same across two gunicorn instances.
"""

import uuid

import pytest
import redis
from django.db import connection

from tests.conftest import PASSWORD
from tests.support.api import ApiClient, key_for
from tests.support.parallel import in_parallel

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_is_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(not redis_is_up(), reason=f"no Redis at {REDIS_URL}"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs a database that runs requests in parallel"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def redis_cache(settings):
    prefix = f"test-{uuid.uuid4().hex}"
    settings.REDIS_URL = REDIS_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "sat_portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def test_racing_requests_never_get_past_the_api_rate_limit(alice, settings):
    settings.API_RATE_LIMIT = "10/hour"
    key = key_for(alice)
    responses = in_parallel([lambda: ApiClient(key).get("sites") for _ in range(16)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 6
    assert all(0 < int(r["Retry-After"]) <= 3600 for r in responses if r.status_code == 429)


def test_racing_wrong_passwords_lock_the_username_at_the_limit(alice, settings):
    from django.test import Client

    settings.LOGIN_FAILURE_LIMIT = 5

    def guess():
        return Client().post(
            "/accounts/login/", {"username": "alice", "password": "guess"}, REMOTE_ADDR="1.2.3.4"
        )

    in_parallel([guess for _ in range(12)])
    locked = Client().post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="1.2.3.4"
    )
    assert b"Too many failed sign-in attempts." in locked.content


def test_a_counter_left_without_an_expiry_gets_its_window_instead_of_429_forever(settings):
    """Django's own incr() can recreate a key that expired between its EXISTS and INCR,
    without an expiry; an older version counted that way. Such a counter must end."""
    from sat_portal import ratelimit

    key = cache_key_of("scim-site", "contoso")
    server = redis.Redis.from_url(REDIS_URL)
    server.set(key, 500)  # far over the limit, and no expiry
    assert ratelimit.hit("scim-site", "contoso", ratelimit.Rate(200, 1)) is not None
    assert 0 < server.ttl(key) <= 1
    server.delete(key)
    assert ratelimit.hit("scim-site", "contoso", ratelimit.Rate(200, 1)) is None


def test_failure_counters_start_their_window_at_the_first_failure(settings):
    from sat_portal import ratelimit

    assert [ratelimit.add_failure("login", "alice", window=60) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.failures("login", "alice") == 3
    key = cache_key_of("login", "alice")
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 60


def cache_key_of(kind: str, *parts: str) -> str:
    from django.core.cache import cache

    from sat_portal import ratelimit

    return cache.make_and_validate_key(ratelimit.cache_key(kind, *parts))


def test_scim_requests_count_in_redis_without_building_a_client_each(
    contoso, contoso_scim, settings, monkeypatch
):
    """Each SCIM request counts its address's refusals and its site's rate in Redis. Django's
    Redis cache built a redis-py client for every such operation (0.3 ms of CPU each);
    ours builds one per connection pool and reuses it."""
    settings.SCIM_SITE_RATE_LIMIT = "3/min"
    built = []
    real_init = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        real_init(self, *args, **kwargs)

    assert contoso_scim.get("Users").status_code == 200  # the first use builds the client
    monkeypatch.setattr(redis.Redis, "__init__", counting_init)
    statuses = [contoso_scim.get("Users").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]  # counted in Redis: the site's 4th request this minute
    assert built == []
    site_key = cache_key_of("scim-site", str(contoso.pk))
    assert int(redis.Redis.from_url(REDIS_URL).get(site_key)) == 4


def test_a_scim_request_with_a_remembered_credential_makes_one_round_trip_to_redis(
    contoso, contoso_scim, monkeypatch
):
    """Its address's refusals, the credentials' generation and its site's rate: one
    command (sites.remembered, scim_app.endpoint.guard)."""
    assert contoso_scim.get("Users").status_code == 200  # looked up, then remembered
    sent = []
    real_send = redis.connection.Connection.send_packed_command

    def counting_send(self, command, *args, **kwargs):
        sent.append(command)
        return real_send(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting_send)
    assert contoso_scim.get("Users").status_code == 200
    assert len(sent) == 1


def test_counting_goes_on_after_redis_forgets_its_scripts(contoso, contoso_scim, settings):
    """Counting is one Lua script, which Redis keeps only in memory: after a restart (or
    SCRIPT FLUSH) the next request loads it again instead of failing."""
    settings.SCIM_SITE_RATE_LIMIT = "3/min"
    assert contoso_scim.get("Users").status_code == 200
    redis.Redis.from_url(REDIS_URL).script_flush()
    statuses = [contoso_scim.get("Users").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    site_key = cache_key_of("scim-site", str(contoso.pk))
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(site_key) <= 60
