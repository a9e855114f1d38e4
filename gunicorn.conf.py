"""gunicorn settings for SAT Portal on a 2-core server.

`gunicorn sat_portal.wsgi` reads this file from the checkout; the environment
variables below override it, and so do command-line flags.

Two worker processes, one per core, so both cores run Python at once. A SCIM request
spends much of its time waiting on PostgreSQL round trips, so each process runs
4 threads (gthread) to keep both cores busy while requests wait: 8 requests in
flight, Entra's usual number per job, and 8 database connections (DB_CONN_MAX_AGE
keeps them open between requests). More processes only add memory and context
switches on 2 cores; more threads add GIL contention. The benchmark (README) measures it.
"""

import os
import tempfile
from pathlib import Path

workers = int(os.getenv("WEB_CONCURRENCY", "2"))
threads = int(os.getenv("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Entra keeps connections open between requests of a cycle.
keepalive = 5
bind = os.getenv("GUNICORN_BIND", "127.0.0.1:8000")
# The longest request line gunicorn accepts (its maximum): a 2,000-character SCIM filter
# is up to 6,000 once URL-encoded. Longer lines get gunicorn's own 400 before Django.
limit_request_line = 8190

# Prometheus metrics (/metrics): each worker process writes its counts to files in this
# folder and /metrics sums them, so every request is counted whichever worker answers.
if not os.getenv("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sat-portal-metrics-")


def on_starting(server) -> None:
    # Counts of an earlier run must not be added to this one's.
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# gunicorn 25.1+ opens a control socket at one fixed path per user, which two instances on
# one host (or a restart racing the old master) take from each other; we do not use it.
control_socket_disable = True
