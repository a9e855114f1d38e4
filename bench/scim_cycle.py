"""Replay Microsoft Entra ID provisioning against the SCIM endpoint and measure it.

    .venv/bin/python -m bench.scim_cycle --start-server --mode all
    .venv/bin/python -m bench.scim_cycle --url http://127.0.0.1:8000/api/v2/scim --token satscim_…

Modes (the request shapes follow docs/entra-provisioning.md):
- cycle: an initial cycle (probe; per user GET filter + POST; per group GET filter +
  POST; memberships by PATCH Add in batches), then an incremental one (GET /Users/{id}
  + PATCH for 5% of users, disables, member removals), `--concurrency` requests in flight;
- scaling: p50 of the common requests at growing site and group sizes, bulk-loaded
  with COPY, one request at a time; flat means the largest within 1.5x the smallest;
- floor: the same lookup and INSERT with plain psycopg on one connection;
- kinds: each common request kind on its own (POST /Users, GET filter, GET by id, PATCH),
  `--kind-concurrency` in flight: requests per second, p99 and the server's CPU per
  request; with `--peer` the same against python-scim's in-memory scim2-server, side by
  side (bench/peer.py).

Before and after: `git worktree add /tmp/before <commit>`, then `--against /tmp/before`
serves that commit's code too, on a database of its own, and the kinds mode measures both
kind by kind in turn (`--rounds 5`: five times, medians), so that a machine whose speed
drifts slows both alike; `--checkout DIR` serves another checkout instead of this one.

With `--start-server` gunicorn serves `bench.wsgi_counting`, which adds the number of
SQL statements each request ran in a response header; against `--url` that column is
empty unless the server does the same. Scaling and floor need the database
(`--database-url`, implied by `--start-server`).
"""

import argparse
import itertools
import json
import queue
import random
import resource
import signal
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from . import bulk
from .autoanalyze import AutoAnalyze
from .client import (
    Budget,
    BudgetExhausted,
    Recorder,
    ScimClient,
    SiteRef,
    filter_query,
    percentile,
    require_loopback,
)
from .peer import DEFAULT_VENV, PeerServer
from .server import ROOT, BenchServer, checkout_label, sibling_database_url

USER_SCHEMAS = [
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
]
GROUP_SCHEMAS = [
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
]
PATCH_SCHEMAS = ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
GIVEN = ["Dana", "Ravi", "Mei", "Omar", "Sofia", "Jonas", "Aiko", "Lena", "Kofi", "Ines"]
FAMILY = ["Fisher", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Silva", "Novak", "Haddad"]

CYCLE_KINDS = [
    "probe",
    "user GET filter",
    "user POST",
    "group GET filter",
    "group POST",
    "group PATCH add members",
    "user GET id",
    "user PATCH replace",
    "user PATCH disable",
    "group GET id",
    "group PATCH remove member",
]
FLAT_RATIO = 1.5
WARM_UP = 10


class UnexpectedResponse(Exception):
    pass


def expect(kind: str, status: int, body, *allowed: int):
    if status not in allowed:
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        raise UnexpectedResponse(f"{kind}: HTTP {status} {detail}".strip())
    return body


def user_body(user_name: str, number: int) -> dict:
    given, family = GIVEN[number % len(GIVEN)], FAMILY[number % len(FAMILY)]
    return {
        "schemas": USER_SCHEMAS,
        "externalId": str(uuid.uuid4()),
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "roles": [],
    }


def patch(*operations: dict) -> dict:
    return {"schemas": PATCH_SCHEMAS, "Operations": list(operations)}


# --- running tasks on N threads -------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    seconds: float
    tasks: int
    failures: list[str] = field(default_factory=list)
    worker_rss_kib: list[int] = field(default_factory=list)


def run_phase(
    name: str,
    tasks: list[Callable[[ScimClient], None]],
    tenant_url: str,
    recorder: Recorder,
    budget: Budget,
    concurrency: int,
) -> PhaseResult:
    """Run `tasks` (each a short sequence of requests) on `concurrency` threads, each
    with its own keep-alive connection, like Entra's parallel workers."""
    work: queue.SimpleQueue = queue.SimpleQueue()
    for task in tasks:
        work.put(task)
    result = PhaseResult(name, 0.0, len(tasks))
    stop = threading.Event()

    def worker() -> None:
        client = ScimClient(tenant_url, recorder, budget)
        try:
            while not stop.is_set():
                try:
                    task = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    task(client)
                except BudgetExhausted:
                    stop.set()
                except Exception as exc:  # reported with the figures, never hidden
                    result.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


def interleave(per_site: list[list]) -> list:
    """Round-robin over sites, so every site's job is provisioning at the same time."""
    return [task for batch in itertools.zip_longest(*per_site) for task in batch if task]


class CpuMeter:
    """CPU time of the gunicorn workers (Python's own cost per request) and of this
    client, which shares the machine's cores with the server and PostgreSQL."""

    def __init__(self, server: BenchServer | None):
        self.server = server
        self.workers = server.workers_cpu_seconds() if server else 0.0
        self.client = resource.getrusage(resource.RUSAGE_SELF)

    def figures(self, requests: int, wall: float) -> dict:
        now = resource.getrusage(resource.RUSAGE_SELF)
        client = now.ru_utime + now.ru_stime - self.client.ru_utime - self.client.ru_stime
        result = {"client_cpu_share_of_one_core": round(client / wall, 2) if wall else None}
        if self.server is not None and requests:
            workers = self.server.workers_cpu_seconds() - self.workers
            result["server_cpu_ms_per_request"] = round(workers * 1000 / requests, 2)
            result["server_cpu_share_of_one_core"] = round(workers / wall, 2) if wall else None
        return result


class RssSampler(threading.Thread):
    """The gunicorn workers' resident memory every few seconds, for the whole cycle:
    flat means nothing accumulates per request."""

    def __init__(self, server: BenchServer | None, every: float = 5.0):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.samples: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        while self.server is not None:
            self.samples.append(sum(self.server.workers_rss_kib()))
            if self.done.wait(self.every):
                self.samples.append(sum(self.server.workers_rss_kib()))
                return

    def figures(self) -> dict:
        if not self.samples:
            return {}
        return {
            "every_seconds": self.every,
            "total_kib_first": self.samples[0],
            "total_kib_max": max(self.samples),
            "total_kib_last": self.samples[-1],
            "total_kib_series": self.samples,
        }


# --- the Entra cycle ------------------------------------------------------------------


@dataclass
class CyclePlan:
    site: SiteRef
    users: int
    groups: int
    run: str
    user_ids: dict[int, str] = field(default_factory=dict)
    group_ids: dict[int, str] = field(default_factory=dict)

    def user_name(self, number: int) -> str:
        return f"bench.{self.run}.{number:06d}@{self.site.name.lower().replace(' ', '')}.example"

    def user_id(self, number: int) -> str:
        if number not in self.user_ids:
            raise UnexpectedResponse(f"user {number} was not created, so it is not changed")
        return self.user_ids[number]

    def group_id(self, number: int) -> str:
        if number not in self.group_ids:
            raise UnexpectedResponse(f"group {number} was not created, so it is not changed")
        return self.group_ids[number]

    def group_name(self, number: int) -> str:
        return f"Bench {self.run} group {number:03d}"

    def memberships(self) -> dict[int, list[int]]:
        """Every user in two groups (one when there is one group)."""
        members: dict[int, list[int]] = {g: [] for g in range(self.groups)}
        for number in range(self.users):
            for group in {number % self.groups, (number // self.groups) % self.groups}:
                members[group].append(number)
        return members


def probe_task(plan: CyclePlan) -> Callable[[ScimClient], None]:
    def task(client: ScimClient) -> None:
        path = "/Users?" + filter_query("userName", str(uuid.uuid4()))
        body = expect("probe", *client.request(plan.site, "probe", "GET", path), 200)
        if body.get("totalResults") != 0:
            raise UnexpectedResponse(f"probe: totalResults {body.get('totalResults')}")

    return task


def match_or_create(
    client: ScimClient, plan: CyclePlan, resource: str, query: str, body: dict
) -> str:
    """Entra's matching step: GET by filter; POST when nothing matched. Returns the id."""
    kind = "user" if resource == "/Users" else "group"
    status, answer = client.request(plan.site, f"{kind} GET filter", "GET", f"{resource}?{query}")
    found = expect(f"{kind} GET filter", status, answer, 200)["Resources"]
    if found:
        return found[0]["id"]
    status, answer = client.request(plan.site, f"{kind} POST", "POST", resource, body)
    return expect(f"{kind} POST", status, answer, 201)["id"]


def user_task(plan: CyclePlan, number: int) -> Callable[[ScimClient], None]:
    def task(client: ScimClient) -> None:
        user_name = plan.user_name(number)
        query = filter_query("userName", user_name)
        body = user_body(user_name, number)
        plan.user_ids[number] = match_or_create(client, plan, "/Users", query, body)

    return task


def group_task(plan: CyclePlan, number: int) -> Callable[[ScimClient], None]:
    def task(client: ScimClient) -> None:
        name = plan.group_name(number)
        query = "excludedAttributes=members&" + filter_query("displayName", name)
        body = {
            "schemas": GROUP_SCHEMAS,
            "externalId": str(uuid.uuid4()),
            "displayName": name,
            "meta": {"resourceType": "Group"},
        }
        plan.group_ids[number] = match_or_create(client, plan, "/Groups", query, body)

    return task


def add_members_task(plan: CyclePlan, group: int, users: list[int]) -> Callable:
    def task(client: ScimClient) -> None:
        values = [{"value": plan.user_ids[u]} for u in users if u in plan.user_ids]
        body = patch({"op": "Add", "path": "members", "value": values})
        path = f"/Groups/{plan.group_id(group)}"
        kind = "group PATCH add members"
        expect(kind, *client.request(plan.site, kind, "PATCH", path, body), 200, 204)

    return task


def update_user_task(plan: CyclePlan, number: int, disable: bool) -> Callable:
    def task(client: ScimClient) -> None:
        path = f"/Users/{plan.user_id(number)}"
        expect("user GET id", *client.request(plan.site, "user GET id", "GET", path), 200)
        if disable:
            kind, operation = "user PATCH disable", {"op": "Replace", "path": "active"}
            operation["value"] = "False"
        else:
            kind, operation = "user PATCH replace", {"op": "Replace", "path": "name.familyName"}
            operation["value"] = f"{FAMILY[number % len(FAMILY)]}-Lee"
        expect(kind, *client.request(plan.site, kind, "PATCH", path, patch(operation)), 200, 204)

    return task


def remove_member_task(plan: CyclePlan, group: int, user: int) -> Callable:
    def task(client: ScimClient) -> None:
        path = f"/Groups/{plan.group_id(group)}"
        status, body = client.request(
            plan.site, "group GET id", "GET", path + "?excludedAttributes=members"
        )
        expect("group GET id", status, body, 200)
        operation = {"op": "Remove", "path": "members", "value": [{"value": plan.user_id(user)}]}
        kind = "group PATCH remove member"
        expect(kind, *client.request(plan.site, kind, "PATCH", path, patch(operation)), 200, 204)

    return task


def run_cycle(args, tenant_url: str, sites: list[SiteRef], budget: Budget, db, server) -> dict:
    recorder = Recorder()
    run = uuid.uuid4().hex[:6]
    plans = [CyclePlan(site, args.users, args.groups, run) for site in sites]
    rng = random.Random(args.seed)
    phases: list[PhaseResult] = []
    rss = {"start_kib": server.workers_rss_kib() if server else []}

    def phase(name: str, per_site: list[list]) -> None:
        if budget.exhausted:
            return
        tasks = interleave(per_site)
        done = run_phase(name, tasks, tenant_url, recorder, budget, args.concurrency)
        done.worker_rss_kib = server.workers_rss_kib() if server else []
        phases.append(done)
        rss_note = f", worker RSS KiB after: {done.worker_rss_kib}" if server else ""
        print(f"  {name}: {len(tasks)} tasks in {done.seconds:.1f} s{rss_note}", flush=True)

    cpu = CpuMeter(server)
    sampler = RssSampler(server)
    sampler.start()
    started = time.monotonic()
    phase("probe", [[probe_task(p)] for p in plans])
    phase("initial: users", [[user_task(p, n) for n in range(p.users)] for p in plans])
    phase("initial: groups", [[group_task(p, g) for g in range(p.groups)] for p in plans])
    batches = []
    for p in plans:
        site_batches = []
        for group, members in p.memberships().items():
            for i in range(0, len(members), args.member_batch):
                site_batches.append(add_members_task(p, group, members[i : i + args.member_batch]))
        batches.append(site_batches)
    phase("initial: memberships", batches)
    initial_seconds = time.monotonic() - started

    phase("incremental: probe", [[probe_task(p)] for p in plans])
    changes = []
    for p in plans:
        # 5% of users changed, 2% disabled, 2% removed from a group (at least one each).
        shares = [max(1, p.users * percent // 100) for percent in (5, 2, 2)]
        chosen = rng.sample(range(p.users), k=min(p.users, sum(shares)))
        updates = chosen[: shares[0]]
        disables = chosen[shares[0] : shares[0] + shares[1]]
        removals = chosen[shares[0] + shares[1] :]
        site_tasks = [update_user_task(p, n, disable=False) for n in updates]
        site_tasks += [update_user_task(p, n, disable=True) for n in disables]
        site_tasks += [remove_member_task(p, n % p.groups, n) for n in removals]
        rng.shuffle(site_tasks)
        changes.append(site_tasks)
    phase("incremental: changes", changes)
    wall = time.monotonic() - started
    rss["end_kib"] = server.workers_rss_kib() if server else []
    sampler.done.set()
    sampler.join()
    rss["sampled"] = sampler.figures()
    cpu_figures = cpu.figures(len(recorder.samples), wall)

    summary = recorder.summary(CYCLE_KINDS)
    per_site = {}
    for site in sites:
        site_samples = [s for s in recorder.samples if s.site == site.name]
        per_site[site.name] = round(len(site_samples) / wall, 1) if wall else None
    created = {
        "users (201)": sum(len(p.user_ids) for p in plans),
        "groups (201)": sum(len(p.group_ids) for p in plans),
    }
    if db is not None:
        site_ids = [bulk.site_for_token(db, site.token) for site in sites]
        created["in database"] = bulk.counts(db, site_ids)
    return {
        "sites": len(sites),
        "users_per_site": args.users,
        "groups_per_site": args.groups,
        "concurrency": args.concurrency,
        "wall_seconds": round(wall, 2),
        "initial_cycle_seconds": round(initial_seconds, 2),
        "phases": [
            {
                "name": p.name,
                "tasks": p.tasks,
                "seconds": round(p.seconds, 2),
                "worker_rss_kib": p.worker_rss_kib,
            }
            for p in phases
        ],
        "requests": summary,
        "per_site_req_per_s": per_site,
        "rows": created,
        "worker_rss_kib": rss,
        "cpu": cpu_figures,
        "failures": sorted({f for p in phases for f in p.failures})[:20],
        "failure_count": sum(len(p.failures) for p in phases),
        "stopped": budget.exhausted or None,
    }


# --- scaling and floor ----------------------------------------------------------------


def timed(kind: str, results: dict[str, list[float]], action: Callable[[], None]) -> None:
    started = time.monotonic()
    action()
    results.setdefault(kind, []).append((time.monotonic() - started) * 1000)


def p50(recorder: Recorder, kind: str) -> float | None:
    values = sorted(s.seconds * 1000 for s in recorder.samples if s.kind == kind)
    return round(percentile(values, 0.5), 2) if values else None


def queries(recorder: Recorder, kind: str) -> float | None:
    counted = [s.queries for s in recorder.samples if s.kind == kind and s.queries is not None]
    return round(statistics.fmean(counted), 2) if counted else None


def run_scaling(
    args, tenant_url: str, sites: dict[int, SiteRef], budget: Budget, db, server
) -> dict:
    """One site per size, bulk-loaded, and one group per group size in the largest site.

    Requests go one at a time (p50 is the request's own cost, not queueing) and in
    rounds over the sizes, so a machine busy with something else slows every size
    alike instead of whichever size happened to be measured at that moment.
    """
    recorder = Recorder()
    client = ScimClient(tenant_url, recorder, budget)
    run = uuid.uuid4().hex[:6]
    rng = random.Random(args.seed)
    failures: list[str] = []
    rows: list[dict] = []
    rss = {"start_kib": server.workers_rss_kib() if server else []}
    posted = itertools.count()
    per_request = args.repeats + WARM_UP

    def rounds(kind: str, requests: dict[str, Callable[[str], object]]) -> None:
        keys = {label: f"{kind} | {label}" for label in requests}
        for number in range(per_request):
            if number == WARM_UP:
                # Every gunicorn thread opens its database connection once: not timed.
                recorder.samples[:] = [s for s in recorder.samples if s.kind not in keys.values()]
            for label, request in requests.items():
                try:
                    request(keys[label])
                except UnexpectedResponse as exc:
                    failures.append(str(exc))
        for label, key in keys.items():
            rows.append(
                {
                    "kind": kind,
                    "size": label,
                    "p50_ms": p50(recorder, key),
                    "queries_per_request": queries(recorder, key),
                }
            )

    def call(site: SiteRef, key: str, method: str, path: str, body=None, ok=(200,)):
        status, answer = client.request(site, key, method, path, body)
        return expect(key, status, answer, *ok)

    def one_member(site: SiteRef, group: str, users, op: str = "Add") -> Callable[[str], object]:
        def request(key: str):
            value = [{"value": str(next(users))}]
            body = patch({"op": op, "path": "members", "value": value})
            return call(site, key, "PATCH", f"/Groups/{group}", body, ok=(200, 204))

        return request

    try:
        loaded = {}
        for size, site in sorted(sites.items()):
            print(f"  loading {size} users into {site.name}", flush=True)
            site_id = bulk.site_for_token(db, site.token)
            names = [f"scale.{run}.{i:07d}@site{size}.example" for i in range(size)]
            ids = bulk.load_users(db, site_id, names)
            group = str(bulk.create_group(db, site_id, f"Scale {run} adds", []))
            joining = iter(rng.sample(ids, k=min(size, per_request)))
            loaded[f"{size} users"] = (site, site_id, names, ids, group, joining)

        by_size = loaded.items()
        rounds(
            "GET /Users filter userName eq",
            {
                label: lambda key, s=site, n=names: call(
                    s, key, "GET", "/Users?" + filter_query("userName", rng.choice(n))
                )
                for label, (site, _, names, *_rest) in by_size
            },
        )
        rounds(
            "POST /Users",
            {
                label: lambda key, s=site: call(
                    s,
                    key,
                    "POST",
                    "/Users",
                    user_body(f"scale.{run}.post{next(posted):07d}@x.example", 1),
                    ok=(201,),
                )
                for label, (site, *_rest) in by_size
            },
        )
        rounds(
            "GET /Users?count=100",
            {
                label: lambda key, s=site: call(s, key, "GET", "/Users?startIndex=1&count=100")
                for label, (site, *_rest) in by_size
            },
        )
        rounds(
            "PATCH /Groups add one member",
            {
                label: one_member(site, group, joining)
                for label, (site, _, _, _, group, joining) in by_size
            },
        )

        site, site_id, _, ids, _, _ = loaded[f"{max(sites)} users"]
        groups = {}
        for members in sorted(args.group_sizes):
            if members + per_request > len(ids):
                print(f"  skipping group size {members}: the site has too few users", flush=True)
                continue
            print(f"  loading a group of {members} members into {site.name}", flush=True)
            group = str(bulk.create_group(db, site_id, f"Scale {run} {members}", ids[:members]))
            newcomers = [str(i) for i in ids[members : members + per_request]]
            groups[f"{members} members"] = (group, newcomers)
        rounds(
            "PATCH /Groups add one member",
            {label: one_member(site, g, iter(new)) for label, (g, new) in groups.items()},
        )
        rounds(
            "GET /Groups/{id} excludedAttributes=members",
            {
                label: lambda key, g=g: call(
                    site, key, "GET", f"/Groups/{g}?excludedAttributes=members"
                )
                for label, (g, _) in groups.items()
            },
        )
        rounds(
            "PATCH /Groups remove one member",
            {
                label: one_member(site, g, iter(new), op="Remove")
                for label, (g, new) in groups.items()
            },
        )
    except BudgetExhausted:
        pass
    finally:
        client.close()
    rss["end_kib"] = server.workers_rss_kib() if server else []
    return {
        "repeats": args.repeats,
        "rows": rows,
        "verdicts": verdicts(rows),
        "worker_rss_kib": rss,
        "failures": sorted(set(failures))[:20],
        "failure_count": len(failures),
        "stopped": budget.exhausted or None,
    }


def verdicts(rows: list[dict]) -> list[dict]:
    """Per request kind, for site sizes and for group sizes: largest vs smallest p50."""
    result = []
    for dimension in ("users", "members"):
        by_kind: dict[str, list[dict]] = {}
        for row in rows:
            if row["size"].endswith(" " + dimension) and row["p50_ms"] is not None:
                by_kind.setdefault(row["kind"], []).append(row)
        for kind, measured in by_kind.items():
            if len(measured) < 2:
                continue
            smallest, largest = measured[0], measured[-1]
            ratio = largest["p50_ms"] / smallest["p50_ms"]
            result.append(
                {
                    "kind": kind,
                    "from": smallest["size"],
                    "to": largest["size"],
                    "ratio": round(ratio, 2),
                    "flat": ratio <= FLAT_RATIO,
                }
            )
    return result


def run_floor(args, tenant_url: str, site: SiteRef, budget: Budget, db) -> dict:
    """The same lookup and INSERT as plain SQL on one open connection: the least any
    request can cost. SCIM's figures are measured the same way, one at a time."""
    site_id = bulk.site_for_token(db, site.token)
    run = uuid.uuid4().hex[:6]
    existing = [
        row[0]
        for row in db.execute(
            "SELECT user_name FROM scim_app_scimuser WHERE site_id = %s LIMIT 1000", (site_id,)
        )
    ]
    if not existing:
        bulk.load_users(db, site_id, [f"floor.{run}.{i:05d}@contoso.example" for i in range(100)])
        return run_floor(args, tenant_url, site, budget, db)
    rng = random.Random(args.seed)
    recorder = Recorder()
    client = ScimClient(tenant_url, recorder, budget)
    sql_ms: dict[str, list[float]] = {}
    failures: list[str] = []
    try:
        for i in range(args.repeats):
            name = rng.choice(existing)
            timed("select", sql_ms, lambda n=name: bulk.floor_select(db, site_id, n))
            timed(
                "insert",
                sql_ms,
                lambda n=i: bulk.floor_insert(db, site_id, f"floor.{run}.sql{n:06d}@x.example", n),
            )
            path = "/Users?" + filter_query("userName", rng.choice(existing))
            body = user_body(f"floor.{run}.scim{i:06d}@x.example", i)
            try:
                expect("GET filter", *client.request(site, "scim get", "GET", path), 200)
                expect("POST", *client.request(site, "scim post", "POST", "/Users", body), 201)
            except UnexpectedResponse as exc:
                failures.append(str(exc))
    except BudgetExhausted:
        pass
    finally:
        client.close()
    result: dict = {
        "repeats": args.repeats,
        "failures": sorted(set(failures))[:20],
        "failure_count": len(failures),
    }
    for label, sql_kind, scim_kind in (
        ("GET /Users filter userName eq", "select", "scim get"),
        ("POST /Users", "insert", "scim post"),
    ):
        floor_p50 = percentile(sorted(sql_ms.get(sql_kind, [0.0])), 0.5)
        scim_p50 = p50(recorder, scim_kind)
        result[label] = {
            "scim_p50_ms": scim_p50,
            "floor_p50_ms": round(floor_p50, 3),
            "times_floor": round(scim_p50 / floor_p50, 1) if scim_p50 and floor_p50 else None,
            "queries_per_request": queries(recorder, scim_kind),
        }
    return result


# --- request kinds on their own, and the in-memory peer ----------------------------------

KIND_ORDER = [
    "POST /Users",
    "GET /Users filter userName eq",
    "GET /Users/{id}",
    "PATCH /Users/{id}",
]


@dataclass
class KindTarget:
    """A server the kinds mode measures: its Tenant URL, a token, and its workers' CPU."""

    label: str
    tenant_url: str
    site: SiteRef
    cpu_seconds: Callable[[], float] | None
    user_ids: list[str] = field(default_factory=list)
    user_names: list[str] = field(default_factory=list)


def kind_tasks(kind: str, target: KindTarget, count: int, rng: random.Random, run: str) -> list:
    def post(number: int):
        def task(client: ScimClient) -> None:
            domain = "".join(c for c in target.label.lower() if c.isalnum())
            name = f"kinds.{run}.{number:06d}@{domain}.example"
            status, body = client.request(
                target.site, kind, "POST", "/Users", user_body(name, number)
            )
            expect(kind, status, body, 201)
            target.user_ids.append(body["id"])
            target.user_names.append(name)

        return task

    def get(path: str):
        def task(client: ScimClient) -> None:
            expect(kind, *client.request(target.site, kind, "GET", path), 200)

        return task

    def replace(user_id: str, number: int):
        def task(client: ScimClient) -> None:
            operation = {"op": "replace", "path": "name.familyName", "value": f"Lee-{number}"}
            path = f"/Users/{user_id}"
            expect(
                kind, *client.request(target.site, kind, "PATCH", path, patch(operation)), 200, 204
            )

        return task

    if kind == "POST /Users":
        return [post(n) for n in range(count)]
    if not target.user_ids:
        return []
    if kind == "GET /Users filter userName eq":
        names = rng.choices(target.user_names, k=count)
        return [get("/Users?" + filter_query("userName", name)) for name in names]
    if kind == "GET /Users/{id}":
        return [get(f"/Users/{user_id}") for user_id in rng.choices(target.user_ids, k=count)]
    return [replace(user_id, n) for n, user_id in enumerate(rng.choices(target.user_ids, k=count))]


# Requests one target gets before the next one's turn: a drift in the machine's speed
# (a shared machine's drifts by a third within minutes) then falls on every target alike.
KIND_TURN = 250


def run_kinds(args, targets: list[KindTarget], budget: Budget) -> dict:
    """Each kind in turn, against the targets in turns of KIND_TURN requests: req/s,
    latency and the workers' CPU per request. With `--rounds` all of it again, and each
    figure the median of the rounds'."""
    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:6]
    rounds: list[list[dict]] = []
    failures: list[str] = []
    for number in range(args.rounds):
        rows = []
        for kind in KIND_ORDER:
            kind_rows, failed = run_kind(args, kind, targets, rng, f"{run}{number}", budget)
            rows += kind_rows
            failures += failed
        rounds.append(rows)
    return {
        "requests_per_kind": args.kind_requests,
        "concurrency": args.kind_concurrency,
        "rounds": len(rounds),
        "rows": median_rows(rounds, targets),
        "each_round": rounds if len(rounds) > 1 else None,
        "failures": sorted(set(failures))[:20],
        "failure_count": len(failures),
        "stopped": budget.exhausted or None,
    }


@dataclass
class KindRun:
    target: KindTarget
    tasks: list
    recorder: Recorder = field(default_factory=Recorder)
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def run_kind(
    args, kind: str, targets: list[KindTarget], rng: random.Random, run: str, budget: Budget
) -> tuple[list[dict], list[str]]:
    """`kind` against every target, KIND_TURN requests at a time, the order of the
    targets reversed every other turn."""
    runs = [KindRun(t, kind_tasks(kind, t, args.kind_requests, rng, run)) for t in targets]
    runs = [r for r in runs if r.tasks]
    failures: list[str] = []
    for turn, start in enumerate(range(0, args.kind_requests, KIND_TURN)):
        for kind_run in runs if turn % 2 == 0 else runs[::-1]:
            target, chunk = kind_run.target, kind_run.tasks[start : start + KIND_TURN]
            if not chunk or budget.exhausted:
                continue
            cpu_before = target.cpu_seconds() if target.cpu_seconds else 0.0
            done = run_phase(
                kind, chunk, target.tenant_url, kind_run.recorder, budget, args.kind_concurrency
            )
            if target.cpu_seconds:
                kind_run.cpu_seconds += target.cpu_seconds() - cpu_before
            kind_run.seconds += done.seconds
            failures += done.failures
    rows = []
    for kind_run in runs:
        samples = len(kind_run.recorder.samples)
        if not samples:
            continue
        row = {"kind": kind, "target": kind_run.target.label}
        row.update(kind_run.recorder.summary([kind])[kind])
        # Throughput over its turns, as a client sees it (first requests included).
        row["req_per_s"] = round(samples / kind_run.seconds, 1)
        if kind_run.target.cpu_seconds:
            cpu_ms = kind_run.cpu_seconds * 1000 / samples
            row["server_cpu_ms_per_request"] = round(cpu_ms, 2)
        rows.append(row)
    return rows, failures


MEDIAN_FIGURES = ("req_per_s", "p50_ms", "p95_ms", "p99_ms", "server_cpu_ms_per_request")


def median_rows(rounds: list[list[dict]], targets: list[KindTarget]) -> list[dict]:
    """One row per kind and target: each figure the median of the rounds', errors summed."""
    rows = []
    for kind in KIND_ORDER:
        for target in targets:
            runs = [
                row
                for rows in rounds
                for row in rows
                if (row["kind"], row["target"]) == (kind, target.label)
            ]
            if not runs:
                continue
            row = {
                **runs[-1],
                "errors": sum(r["errors"] for r in runs),
                "count": sum(r["count"] for r in runs),
            }
            for name in MEDIAN_FIGURES:
                values = [r[name] for r in runs if r.get(name) is not None]
                row[name] = round(statistics.median(values), 2) if values else None
            rows.append(row)
    return rows


# --- output -------------------------------------------------------------------------


def fmt(value) -> str:
    return "-" if value is None else str(value)


def print_cycle(figures: dict) -> None:
    print(
        f"\nEntra cycle: {figures['sites']} site(s) x {figures['users_per_site']} users, "
        f"{figures['groups_per_site']} groups, concurrency {figures['concurrency']}"
    )
    header = f"{'request kind':<28}{'count':>7}{'err':>5}{'req/s':>8}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'SQL/req':>9}{'SQL max':>8}")
    for kind, row in figures["requests"].items():
        print(
            f"{kind:<28}{row['count']:>7}{row['errors']:>5}{fmt(row['req_per_s']):>8}"
            f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
            f"{fmt(row['queries_per_request']):>9}{fmt(row['queries_max']):>8}"
        )
    print(
        f"wall time {figures['wall_seconds']} s (initial cycle {figures['initial_cycle_seconds']} s)"
    )
    rates = sorted(v for v in figures["per_site_req_per_s"].values() if v is not None)
    if len(rates) > 1:
        print(f"per-site req/s: min {rates[0]}, median {statistics.median(rates)}, max {rates[-1]}")
    print(f"rows created: {json.dumps(figures['rows'])}")
    print_rss(figures["worker_rss_kib"])
    cpu = figures["cpu"]
    if "server_cpu_ms_per_request" in cpu:
        print(
            f"gunicorn workers' CPU: {cpu['server_cpu_ms_per_request']} ms per request "
            f"({cpu['server_cpu_share_of_one_core']} cores busy)"
        )
    print(f"this client's CPU: {cpu['client_cpu_share_of_one_core']} cores busy")
    print_failures(figures)


def print_rss(rss: dict) -> None:
    if rss.get("start_kib"):
        print(f"gunicorn worker RSS KiB: start {rss['start_kib']}, end {rss.get('end_kib')}")
    sampled = rss.get("sampled")
    if sampled:
        print(
            f"all workers' RSS every {sampled['every_seconds']:.0f} s: first "
            f"{sampled['total_kib_first']} KiB, max {sampled['total_kib_max']} KiB, "
            f"last {sampled['total_kib_last']} KiB"
        )


def print_failures(figures: dict) -> None:
    if figures.get("stopped"):
        print(f"stopped early: {figures['stopped']}")
    if figures["failure_count"]:
        print(f"FAILURES: {figures['failure_count']}, e.g.:")
        for failure in figures["failures"][:5]:
            print(f"  {failure}")


def print_scaling(figures: dict) -> None:
    print(f"\nScaling: p50 of {figures['repeats']} sequential requests per size")
    print(f"{'request kind':<46}{'size':>16}{'p50 ms':>9}{'SQL/req':>9}")
    for row in figures["rows"]:
        print(
            f"{row['kind']:<46}{row['size']:>16}{fmt(row['p50_ms']):>9}"
            f"{fmt(row['queries_per_request']):>9}"
        )
    for v in figures["verdicts"]:
        verdict = "flat" if v["flat"] else f"NOT flat (over {FLAT_RATIO}x)"
        print(f"{v['kind']}: {v['to']} vs {v['from']}: {v['ratio']}x, {verdict}")
    print_rss(figures["worker_rss_kib"])
    print_failures(figures)


def print_floor(figures: dict) -> None:
    print(f"\nDatabase floor: p50 of {figures['repeats']} sequential requests / statements")
    for label in ("GET /Users filter userName eq", "POST /Users"):
        row = figures[label]
        print(
            f"{label}: SCIM {fmt(row['scim_p50_ms'])} ms ({fmt(row['queries_per_request'])} "
            f"SQL/req), plain psycopg {row['floor_p50_ms']} ms: "
            f"the SCIM request costs {fmt(row['times_floor'])}x the database floor"
        )
    print_failures(figures)


def print_kinds(figures: dict) -> None:
    rounds = figures.get("rounds", 1)
    print(
        f"\nRequest kinds: {figures['requests_per_kind']} requests each, "
        f"concurrency {figures['concurrency']}"
        + (f", medians of {rounds} rounds" if rounds > 1 else "")
    )
    targets = list(dict.fromkeys(row["target"] for row in figures["rows"]))
    by_key = {(row["kind"], row["target"]): row for row in figures["rows"]}
    header = f"{'request kind':<32}"
    for target in targets:
        header += f"{target + ' req/s':>22}{'p99 ms':>9}{'CPU ms':>8}{'err':>5}"
    print(header)
    for kind in KIND_ORDER:
        line = f"{kind:<32}"
        for target in targets:
            row = by_key.get((kind, target))
            if row is None:
                line += f"{'-':>22}{'-':>9}{'-':>8}{'-':>5}"
                continue
            cpu = fmt(row.get("server_cpu_ms_per_request"))
            line += f"{fmt(row['req_per_s']):>22}{row['p99_ms']:>9}{cpu:>8}{row['errors']:>5}"
        print(line)
    for change in figures.get("cpu_change", []):
        print(
            f"CPU per request, {change['kind']}: {change['ours']} ms against "
            f"{change['theirs']} ms at {change['against']} ({change['percent']:+.0f}%)"
        )
    print_failures(figures)


def cpu_change(rows: list[dict], ours: str, theirs: str) -> list[dict]:
    """This checkout's CPU per request against another's (`--against`), kind by kind."""
    by_key = {(row["kind"], row["target"]): row.get("server_cpu_ms_per_request") for row in rows}
    changes = []
    for kind in KIND_ORDER:
        mine, other = by_key.get((kind, ours)), by_key.get((kind, theirs))
        if mine and other:
            percent = round(100 * (mine / other - 1), 1)
            changes.append(
                {"kind": kind, "ours": mine, "theirs": other, "against": theirs, "percent": percent}
            )
    return changes


# --- command line ---------------------------------------------------------------------


def sizes(text: str) -> list[int]:
    return [int(part.replace("k", "000")) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scim_cycle", description=__doc__.split("\n")[0]
    )
    target = parser.add_argument_group("target")
    target.add_argument(
        "--url", help="Tenant URL on this machine, e.g. http://127.0.0.1:8000/api/v2/scim"
    )
    target.add_argument(
        "--token",
        action="append",
        default=[],
        help="a site's Secret Token (repeat for several sites)",
    )
    target.add_argument(
        "--database-url", help="the server's PostgreSQL database (scaling and floor modes)"
    )
    target.add_argument(
        "--start-server",
        action="store_true",
        help="create a fresh database, a site and a token, and serve them with gunicorn for the run",
    )
    target.add_argument(
        "--keep-database",
        action="store_true",
        help="with --start-server: keep the database afterwards",
    )
    target.add_argument(
        "--checkout",
        type=Path,
        default=ROOT,
        help="with --start-server: serve the project in this folder instead, e.g. a git "
        "worktree of an older commit, for before/after figures from one benchmark",
    )
    target.add_argument(
        "--no-query-count",
        action="store_true",
        help="with --start-server: serve sat_portal.wsgi itself, without the SQL counter",
    )
    parser.add_argument(
        "--mode", choices=["cycle", "scaling", "floor", "kinds", "all"], default="cycle"
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="kinds mode: also measure python-scim's in-memory scim2-server (bench/peer.py)",
    )
    parser.add_argument(
        "--peer-venv",
        type=Path,
        default=DEFAULT_VENV,
        help=f"the peer's virtualenv, created if absent (default {DEFAULT_VENV})",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="with --start-server, kinds mode: also serve this checkout (e.g. a git worktree "
        "of an older commit) on a database of its own, and measure both, kind by kind, in "
        "turns of 250 requests",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="kinds mode: measure every kind this many times and print the medians (default 1)",
    )
    parser.add_argument(
        "--kind-requests",
        type=int,
        default=2000,
        help="kinds mode: requests per kind and server (default 2000)",
    )
    parser.add_argument(
        "--kind-concurrency",
        type=int,
        default=4,
        help="kinds mode: requests in flight (default 4)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: a check that everything runs, in seconds"
    )
    parser.add_argument(
        "--sites",
        type=int,
        default=1,
        help="with --start-server: sites provisioning at once (default 1)",
    )
    parser.add_argument(
        "--users", type=int, default=2000, help="users per site in the cycle (default 2000)"
    )
    parser.add_argument(
        "--groups", type=int, default=20, help="groups per site in the cycle (default 20)"
    )
    parser.add_argument(
        "--member-batch", type=int, default=25, help="members per PATCH Add (default 25)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=sizes("1k,10k,100k"),
        help="scaling: site sizes in users (default 1k,10k,100k)",
    )
    parser.add_argument(
        "--group-sizes",
        type=sizes,
        default=sizes("0,1k,10k,50k"),
        help="scaling: group sizes in members (default 0,1k,10k,50k)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=200,
        help="scaling and floor: requests per figure (default 200)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=600, help="stop sending after this long (default 600)"
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=500_000,
        help="stop after this many requests (default 500000)",
    )
    parser.add_argument("--seed", type=int, default=6, help="random seed for the choice of users")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.users, args.groups, args.member_batch = 30, 3, 10
        args.sizes, args.group_sizes, args.repeats = [100, 300], [0, 100], 10
        args.kind_requests = 30
        args.concurrency = min(args.concurrency, 4)
        args.max_seconds = min(args.max_seconds, 120)
    if (args.peer or args.against) and args.mode == "cycle":
        args.mode = "kinds"  # --peer or --against alone: the side-by-side comparison
    if args.against and not args.start_server:
        parser.error("--against needs --start-server")
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    if args.start_server == bool(args.url):
        parser.error("give either --start-server or --url with --token")
    if args.url:
        if not args.token:
            parser.error("--url needs --token")
        require_loopback(args.url)
    if args.database_url:
        host = conninfo_to_dict(args.database_url).get("host") or "127.0.0.1"
        require_loopback(f"http://{host}/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # `kill` (SIGTERM) stops the run like Ctrl-C: through the `finally` below, which
    # stops the servers and drops their databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = None
    other = other_analyzer = None
    peer = None
    db = None
    analyzer = None
    report: dict = {"mode": args.mode, "smoke": args.smoke}
    try:
        if args.start_server:
            args.database_url = args.database_url or (
                "postgres://postgres@127.0.0.1:5432/sat_portal_bench"
            )
            server = BenchServer(
                args.database_url,
                count_queries=not args.no_query_count,
                keep_database=args.keep_database,
                checkout=args.checkout.resolve(),
            )
            print(f"Preparing database {args.database_url} …", flush=True)
            extra_names = [f"Bench site {i:03d}" for i in range(1, args.sites)]
            scaling_names = []
            if args.mode in ("scaling", "all"):
                scaling_names = [f"Scale site {size}" for size in sorted(set(args.sizes))]
            main_token, tokens = server.prepare(extra_names + scaling_names)
            tenant_url = server.start()
            print(f"gunicorn serving {tenant_url} (gunicorn.conf.py)", flush=True)
            sites = [SiteRef("Contoso", main_token)]
            sites += [SiteRef(n, t) for n, t in zip(extra_names, tokens, strict=False)]
            scaling_tokens = tokens[len(extra_names) :]
            scaling_sites = {
                int(name.rsplit(" ", 1)[1]): SiteRef(name, token)
                for name, token in zip(scaling_names, scaling_tokens, strict=True)
            }
        else:
            tenant_url = args.url
            sites = [SiteRef(f"site {i}", t) for i, t in enumerate(args.token, 1)]
            scaling_sites = {}
        if args.database_url:
            db = bulk.connect(args.database_url)
            analyzer = AutoAnalyze(args.database_url)
            if analyzer.start():
                print(
                    "autovacuum is off on this PostgreSQL: the benchmark analyzes changed "
                    "tables as it would (bench/autoanalyze.py)",
                    flush=True,
                )
        budget = Budget(args.max_seconds, args.max_requests)
        report["tenant_url"] = tenant_url

        if args.mode in ("cycle", "all"):
            print("Cycle:", flush=True)
            report["cycle"] = run_cycle(args, tenant_url, sites, budget, db, server)
            print_cycle(report["cycle"])
        if args.mode in ("scaling", "all"):
            if scaling_sites:
                print("\nScaling:", flush=True)
                report["scaling"] = run_scaling(args, tenant_url, scaling_sites, budget, db, server)
                print_scaling(report["scaling"])
            else:
                print("\nScaling needs --start-server (it creates one site per size): skipped.")
        if args.mode in ("floor", "all") and db is None:
            print("\nThe floor needs --database-url (or --start-server): skipped.")
        if db is not None and args.mode in ("floor", "all"):
            report["floor"] = run_floor(args, tenant_url, sites[0], budget, db)
            print_floor(report["floor"])
        if args.mode in ("kinds", "all"):
            ours = server.workers_cpu_seconds if server is not None else None
            targets = [KindTarget("SAT Portal", tenant_url, sites[0], ours)]
            if args.against:
                other = BenchServer(
                    sibling_database_url(args.database_url, "_against"),
                    count_queries=not args.no_query_count,
                    keep_database=args.keep_database,
                    checkout=args.against.resolve(),
                )
                label = checkout_label(other.root)
                token, _ = other.prepare([])
                other_url = other.start()
                other_analyzer = AutoAnalyze(other.database_url)
                other_analyzer.start()
                print(f"{label}: gunicorn serving {other.root} at {other_url}", flush=True)
                other_site = SiteRef(label, token)
                targets.append(KindTarget(label, other_url, other_site, other.workers_cpu_seconds))
            if args.peer:
                peer = PeerServer(args.peer_venv)
                peer_url = peer.start()
                print(f"peer: scim2-server (gunicorn gthread 1x8) serving {peer_url}", flush=True)
                peer_site = SiteRef("scim2-server", peer.token)
                targets.append(
                    KindTarget("scim2-server", peer_url, peer_site, peer.workers_cpu_seconds)
                )
            print("\nRequest kinds:", flush=True)
            report["kinds"] = run_kinds(args, targets, budget)
            if other is not None:
                report["kinds"]["cpu_change"] = cpu_change(
                    report["kinds"]["rows"], targets[0].label, targets[1].label
                )
            print_kinds(report["kinds"])
    finally:
        if analyzer is not None:
            analyzer.stop()
            report["tables_analyzed_by_the_benchmark"] = analyzer.runs
        if other_analyzer is not None:
            other_analyzer.stop()
        if peer is not None:
            peer.stop()
        if other is not None:
            other.stop()
        if db is not None:
            db.close()
        if server is not None:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nFigures written to {args.json}")
    failed = any(
        report.get(part, {}).get("failure_count") for part in ("cycle", "scaling", "floor", "kinds")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
