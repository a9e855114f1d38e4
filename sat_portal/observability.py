"""One JSON log line per request, a request id, and Prometheus metrics.

The log line and the metrics carry the method, the route (the URL pattern, not the
path: ids and query strings stay out), the status, the duration and, for SCIM, the
site. Never a header, a body or a query string: those hold secrets and personal data.
"""

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

logger = logging.getLogger("sat_portal.requests")

# A load balancer's id is kept, so one id follows a request through every hop.
INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
LOG_FIELDS = ("request_id", "method", "route", "status", "duration_ms", "site")

REQUESTS = Counter(
    "sat_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "sat_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SCIM_REQUESTS = Counter("sat_scim_requests_total", "SCIM requests, by site.", ["site"])
SCIM_ERRORS = Counter(
    "sat_scim_errors_total", "SCIM requests answered 4xx or 5xx, by site.", ["site", "status"]
)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({f: getattr(record, f) for f in LOG_FIELDS if hasattr(record, f)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)

    converter = time.gmtime


class NotImplementedIsNoFault(logging.Filter):
    """Django logs every 5xx answer at ERROR. A 501 says an endpoint is not implemented
    (SCIM /Bulk, /Me, /.search, advertised as such): an answer, nothing to page anyone
    about. The request's own log line still has its status."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 501


def route_of(request: HttpRequest) -> str:
    """The path with each captured URL argument replaced by its name, e.g.
    `/api/v2/scim/Users/{resource_id}`; "unmatched" for a path no pattern matched."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    names = {str(value): f"{{{name}}}" for name, value in match.kwargs.items()}
    return "/".join(names.get(part, part) for part in request.path.split("/"))


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        # META, not request.headers: that would build a mapping of every header, per request.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        duration = time.monotonic() - started
        response["X-Request-Id"] = request.id

        route = route_of(request)
        status = response.status_code
        # Set by the SCIM endpoint and the token endpoint for the site's credential.
        check = getattr(request, "credential_check", None)
        site = check.site if check is not None else None
        site_id = str(site.public_id) if site is not None else None
        REQUESTS.labels(request.method, route, str(status)).inc()
        LATENCY.labels(request.method, route).observe(duration)
        if site_id is not None:
            SCIM_REQUESTS.labels(site_id).inc()
            if status >= 400:
                SCIM_ERRORS.labels(site_id, str(status)).inc()
        fields = {
            "request_id": request.id,
            "method": request.method,
            "route": route,
            "status": status,
            "duration_ms": round(duration * 1000, 1),
        }
        if site_id is not None:
            fields["site"] = site_id
        logger.info("%s %s %s", request.method, route, status, extra=fields)
        return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for `Authorization: Bearer <METRICS_TOKEN>` only; a 404
    when no token is set, so an unconfigured /metrics does not exist at all."""
    if not settings.METRICS_TOKEN:
        raise Http404
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(token, settings.METRICS_TOKEN):
        response = HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        # Under gunicorn each worker process counts on its own; sum them all.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
