"""Health endpoints for load balancers and orchestrators.

`/healthz`: the process answers (no database, no cache): restart it if this fails.
`/readyz`: it can serve: the database answers and, when REDIS_URL is set, Redis too;
503 otherwise, so the balancer sends traffic elsewhere until it recovers.

Answered before every other middleware: no host check (balancers probe by address), no
HTTPS redirect, no session, no log line.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse


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
