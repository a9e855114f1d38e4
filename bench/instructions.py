"""Instructions per SCIM request, counted by valgrind (callgrind): a figure that does not
drift with the machine's speed, for comparing two versions of the code.

    .venv/bin/python -m bench.instructions --kind get
    .venv/bin/python -m bench.instructions --kind post --checkout /tmp/before --checkout .

For each checkout: a fresh benchmark database (migrated, seeded, Contoso's token), then a
process that calls the WSGI application directly (no gunicorn, no sockets of its own
but PostgreSQL's) runs `--warm-up` requests and then 0, or `--requests`, more, each time
under callgrind. The difference of the two totals divided by `--requests` is what one
request costs in the Python process: Django, psycopg and our code, not PostgreSQL.
Checkouts are measured at the same time, one process each, so that they wait alike for
PostgreSQL (psycopg polls while it waits, and that counts too). Only ever on loopback
databases whose name contains "bench" (bench/server.py).
"""

import argparse
import io
import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KINDS = ("get", "filter", "post", "patch")
SCIM = "/api/v2/scim"


def user_body() -> bytes:
    name = f"{uuid.uuid4().hex}@contoso.example"
    return json.dumps(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "externalId": uuid.uuid4().hex,
            "active": True,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"type": "work", "value": name, "primary": True}],
        }
    ).encode()


def drive(kind: str, warm_up: int, requests: int) -> None:
    """Inside the measured process: `warm_up` + `requests` requests of `kind`."""
    import django

    django.setup()
    from sat_portal.wsgi import application

    token = os.environ["BENCH_TOKEN"]

    def call(method: str, path: str, query: str = "", body: bytes = b"") -> bytes:
        status = []
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_TYPE": "application/scim+json",
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        answer = b"".join(application(environ, lambda s, headers, exc=None: status.append(s)))
        if not status[0].startswith("2"):
            raise SystemExit(f"{method} {path}: {status[0]} {answer[:300]!r}")
        return answer

    user = json.loads(call("POST", f"{SCIM}/Users", body=user_body()))
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "name.givenName", "value": "Grace"}],
    }
    send = {
        "get": lambda: call("GET", f"{SCIM}/Users/{user['id']}"),
        "filter": lambda: call(
            "GET", f"{SCIM}/Users", f"filter=userName+eq+%22{user['userName']}%22"
        ),
        "post": lambda: call("POST", f"{SCIM}/Users", body=user_body()),
        "patch": lambda: call(
            "PATCH", f"{SCIM}/Users/{user['id']}", body=json.dumps(patch).encode()
        ),
    }[kind]
    for _ in range(warm_up + requests):
        send()


def instructions(server, kind: str, warm_up: int, requests: int) -> int:
    """Callgrind's total for the process running `warm_up` then `requests` requests."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        # This file, run as a script: a checkout of an older commit may not have it.
        str(Path(__file__).resolve()),
        "--drive",
        kind,
        str(warm_up),
        str(requests),
    ]
    result = subprocess.run(
        command, cwd=server.root, env=server.instructions_env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"{server.root}: {result.stderr[-2000:]}")
    collected = [line for line in result.stderr.splitlines() if "Collected :" in line]
    return int(collected[-1].split()[-1])


def per_request(server, kind: str, warm_up: int, requests: int) -> float:
    before = instructions(server, kind, warm_up, 0)
    after = instructions(server, kind, warm_up, requests)
    return (after - before) / requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=KINDS, default="get")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=50)
    parser.add_argument(
        "--checkout",
        type=Path,
        action="append",
        help="a project folder to measure (repeat for several, measured at once); default this one",
    )
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/sat_portal_bench_ir"
    )
    args = parser.parse_args(argv)

    from .server import ROOT, BenchServer, checkout_label, sibling_database_url

    checkouts = [path.resolve() for path in args.checkout or [ROOT]]
    servers = [
        BenchServer(
            sibling_database_url(args.database_url, f"_{number}") if number else args.database_url,
            count_queries=False,
            keep_database=False,
            checkout=checkout,
        )
        for number, checkout in enumerate(checkouts)
    ]
    try:
        for server in servers:
            token, _ = server.prepare([])
            server.instructions_env = {
                **server.env,
                "BENCH_TOKEN": token,
                "DJANGO_SETTINGS_MODULE": "sat_portal.settings",
                "PYTHONHASHSEED": "0",
            }
        with ThreadPoolExecutor(len(servers)) as pool:
            figures = list(
                pool.map(lambda s: per_request(s, args.kind, args.warm_up, args.requests), servers)
            )
    finally:
        for server in servers:
            server.stop()
    for checkout, figure in zip(checkouts, figures, strict=True):
        print(
            f"{args.kind}: {figure / 1e6:.3f}M instructions per request at {checkout_label(checkout)}"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--drive"]:
        drive(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(main())
