"""A Redis outage under gunicorn (REDIS_URL, as deployed with more than one node): the
link to Redis is cut while the app runs, then restored, and gunicorn is never restarted.

Redis holds every shared count (the SCIM refusal count and site rate, sign-in failures,
the REST API's rate) and the generation of the SCIM credentials workers remember. With it
away nothing can be counted, so nothing is served, but every answer says to retry
(outages.py) rather than being a 500, and /readyz says why. When Redis is back the app
serves again by itself.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from .outages import (
    App,
    assert_apis_say_retry_within,
    assert_console_retry_later,
    assert_serving,
    wait_until_serving,
)
from .servers import (
    REDIS_ADDRESS,
    FormSession,
    Gunicorn,
    Seed,
    TcpForwarder,
    app_environment,
    fresh_database,
    manage,
    redis_key_prefix,
    request,
    requires_postgres,
    seed,
)

pytestmark = requires_postgres

# Not a hang: a refused connection to Redis fails at once (settings.py gives Redis 1 s to
# connect and to answer); the rest is a margin for a loaded 2-core machine.
QUICK = 3.0


@dataclass
class Served:
    server: Gunicorn
    forwarder: TcpForwarder
    data: Seed


@pytest.fixture
def served(stack, static_root: Path, tmp_path: Path) -> Served:
    """gunicorn whose REDIS_URL goes through a forwarder the test can cut."""
    prefix = redis_key_prefix(stack, "the Redis outage tests")
    forwarder = TcpForwarder(REDIS_ADDRESS).start()
    stack.callback(forwarder.stop)
    database_url = stack.enter_context(fresh_database("redisoutage"))
    env = app_environment(
        database_url,
        static_root,
        REDIS_URL=f"redis://{REDIS_ADDRESS[0]}:{forwarder.port}/0",
        CACHE_KEY_PREFIX=prefix,
    )
    manage(env, "migrate", "--no-input")
    data = seed(env)
    server = Gunicorn(env, tmp_path)
    stack.callback(server.stop)
    server.start()
    return Served(server, forwarder, data)


def test_a_redis_outage_answers_503_everywhere_and_recovers_without_a_restart(served: Served):
    server, forwarder = served.server, served.forwarder
    app = App(server.url, served.data)
    # Before the outage: every worker thread that answers has used its Redis connection.
    assert_serving(app)
    console = FormSession(server.url)
    _, csrf = console.csrf_form("/accounts/login/")
    assert forwarder.open_connections > 0

    forwarder.cut()

    assert_apis_say_retry_within(app, QUICK)
    # The balancer's probes: not ready, and why; but alive.
    ready = request("GET", server.url + "/readyz")
    assert ready.status == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": "unreachable"}
    assert request("GET", server.url + "/healthz").status == 200
    # The console: signing in counts failures in Redis.
    assert_console_retry_later(app.sign_in(console, csrf))

    forwarder.restore()
    wait_until_serving(app, "Redis")
    assert server.running, "gunicorn was restarted or died"
    # Every worker thread recovers, not just the one that answered first.
    assert_serving(app)
    assert app.sign_in(console, csrf).status == 302
