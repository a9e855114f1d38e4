"""Health endpoints for load balancers and orchestrators.

`/healthz`: the process answers (no database, no cache): restart it if this fails.
`/readyz`: it can serve: the database answers and, when REDIS_URL is set, Redis too;
503 otherwise, so the balancer sends traffic elsewhere until it recovers.

Answered before every other middleware: no host check (balancers probe by address), no
HTTPS redirect, no session, no log line.

`OUTAGES` and `unavailable()`: what the error pages, the SCIM endpoint and the token
endpoint ask of an error, to answer 503 with Retry-After (retry shortly) when it means one
of those two could not be reached, and 500 only for everything else.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What an outage of the database (unreachable, or a statement cancelled or deadlocked) or
# of Redis (refused, reset, timed out, still loading its data) raises in a request.
OUTAGES = (DatabaseError, RedisConnectionError, RedisTimeoutError)
# How long a client should wait before retrying during one (the Retry-After of its 503).
RETRY_AFTER_SECONDS = 30


def unavailable(error: BaseException | None) -> str | None:
    """The name of what `error` is an outage of ("Database" or "Redis"), else None."""
    if isinstance(error, DatabaseError):
        return "Database"
    if isinstance(error, OUTAGES):
        return "Redis"
    return None


def readiness() -> dict[str, str]:
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
    if settings.REDIS_URL:
        try:
            cache.get("readyz")
            checks["redis"] = "ok"
        except Exception:  # redis-py's errors: connection refused, timeout, ...
            checks["redis"] = "unreachable"
    return checks


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return no_store(JsonResponse({"status": "ok"}))
        if request.path == "/readyz":
            checks = readiness()
            ready = all(state == "ok" for state in checks.values())
            body = {"status": "ok" if ready else "unavailable", "checks": checks}
            return no_store(JsonResponse(body, status=200 if ready else 503))
        return self.get_response(request)


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
