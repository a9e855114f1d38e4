"""Housekeeping inside the app, so that no operator has to schedule anything: the
provisioning log's retention, the purge of deleted users and groups after theirs, the
clean-up of expired credentials.

Each server process runs a daemon thread that wakes every HOUSEKEEPING_INTERVAL seconds;
the one that takes the cache lock (shared through Redis with REDIS_URL, so one process of
all nodes) runs every job. A job does one bounded batch in its own short transaction and
says whether more is left; jobs are repeated until done or for at most BUDGET seconds, so
the tables are never locked for long and Entra's requests go on meanwhile. The thread
uses its own database connection, never a request's.
"""

import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

# A job: delete one batch; True if there may be more to do.
Job = Callable[[], bool]
JOBS: list[Job] = []
BUDGET = 20  # seconds of work per run, at most
LOCK = "housekeeping-lock"

_started = threading.Lock()
_thread: threading.Thread | None = None


def register(job: Job) -> Job:
    if job not in JOBS:
        JOBS.append(job)
    return job


def run_once() -> dict[str, int]:
    """Run every job until it is done or the budget is spent: batches run, by job."""
    deadline = time.monotonic() + BUDGET
    batches = {}
    for job in JOBS:
        name = f"{job.__module__}.{job.__qualname__}"
        batches[name] = 0
        more = True
        while more and time.monotonic() < deadline:
            more = job()
            batches[name] += 1
    return batches


def loop(interval: int) -> None:
    while True:
        time.sleep(interval)
        # Once per interval across every process sharing the cache.
        if not cache.add(LOCK, os.getpid(), timeout=max(1, interval - 1)):
            continue
        try:
            close_old_connections()
            batches = run_once()
            logger.info("Housekeeping done: %s", batches)
        except Exception:
            logger.exception("Housekeeping failed; it runs again in %s s", interval)
        finally:
            connections.close_all()


def start() -> None:
    """Start this process's housekeeping thread (once; not at all with the interval 0)."""
    global _thread
    interval = settings.HOUSEKEEPING_INTERVAL
    if interval <= 0:
        return
    with _started:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(
                target=loop, args=(interval,), name="housekeeping", daemon=True
            )
            _thread.start()
