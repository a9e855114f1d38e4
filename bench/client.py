"""A SCIM client for one thread (one keep-alive connection) and the figures it records."""

import http.client
import ipaddress
import json
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

QUERIES_HEADER = "X-Bench-Queries"
SCIM_JSON = "application/scim+json; charset=utf-8"


def require_loopback(url: str) -> None:
    """Refuse any URL whose host is not this machine: the benchmark floods its target."""
    host = urlsplit(url).hostname
    if not host:
        raise SystemExit(f"--url has no host: {url!r}")
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise SystemExit(f"Cannot resolve {host!r}: {exc}") from None
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    if not all(address.is_loopback for address in addresses):
        raise SystemExit(f"Refusing {url!r}: the benchmark only runs against loopback addresses.")


def filter_query(attribute: str, value: str) -> str:
    return "filter=" + quote(f'{attribute} eq "{value}"', safe="")


@dataclass
class Sample:
    kind: str
    site: str
    started: float
    seconds: float
    status: int
    queries: int | None


@dataclass
class Recorder:
    """Every request's timing, thread-safe; summarised per request kind."""

    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def summary(self, kinds: list[str] | None = None) -> dict:
        by_kind: dict[str, list[Sample]] = {}
        for sample in self.samples:
            by_kind.setdefault(sample.kind, []).append(sample)
        order = kinds or list(by_kind)
        result = {kind: summarise(by_kind[kind]) for kind in order if kind in by_kind}
        if self.samples:
            result["all"] = summarise(self.samples)
        return result


def percentile(sorted_values: list[float], fraction: float) -> float:
    # Nearest rank: the value below which `fraction` of the samples lie.
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def summarise(samples: list[Sample]) -> dict:
    latencies = sorted(sample.seconds * 1000 for sample in samples)
    span = max(s.started + s.seconds for s in samples) - min(s.started for s in samples)
    counted = [s.queries for s in samples if s.queries is not None]
    return {
        "count": len(samples),
        "errors": sum(1 for s in samples if s.status >= 400 or s.status == 0),
        "req_per_s": round(len(samples) / span, 1) if span > 0 else None,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "queries_per_request": round(statistics.fmean(counted), 2) if counted else None,
        "queries_max": max(counted) if counted else None,
    }


class Budget:
    """The run's bounds: a deadline and a total request count, shared by all threads."""

    def __init__(self, max_seconds: float, max_requests: int):
        self.deadline = time.monotonic() + max_seconds
        self.remaining = max_requests
        self.lock = threading.Lock()
        self.exhausted = ""

    def take(self) -> bool:
        with self.lock:
            if self.exhausted:
                return False
            if time.monotonic() > self.deadline:
                self.exhausted = "time limit (--max-seconds) reached"
            elif self.remaining <= 0:
                self.exhausted = "request limit (--max-requests) reached"
            else:
                self.remaining -= 1
                return True
            return False


class BudgetExhausted(Exception):
    pass


@dataclass
class SiteRef:
    """A site as the benchmark sees it: a label and its Secret Token."""

    name: str
    token: str = field(repr=False)


class ScimClient:
    """One keep-alive HTTP connection to the Tenant URL, as one of Entra's workers."""

    def __init__(self, tenant_url: str, recorder: Recorder, budget: Budget):
        parts = urlsplit(tenant_url.rstrip("/"))
        self.host, self.port, self.base = parts.hostname, parts.port or 80, parts.path
        self.recorder, self.budget = recorder, budget
        self.connection: http.client.HTTPConnection | None = None

    def request(self, site: SiteRef, kind: str, method: str, path: str, body: dict | None = None):
        """Send one request; return (status, parsed JSON body or None)."""
        if not self.budget.take():
            raise BudgetExhausted(self.budget.exhausted)
        headers = {"Authorization": f"Bearer {site.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = SCIM_JSON
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.connection.request(method, self.base + path, payload, headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
                started = time.monotonic()
        seconds = time.monotonic() - started
        queries = response.getheader(QUERIES_HEADER)
        self.recorder.add(
            Sample(
                kind,
                site.name,
                started,
                seconds,
                response.status,
                int(queries) if queries is not None else None,
            )
        )
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
