"""Run calls in threads, each with its own database connection: on PostgreSQL they
really run in parallel."""

import threading

from django.db import connections


def in_thread(call, *args) -> threading.Thread:
    """Start `call(*args)` in a thread of its own that closes its database connection
    when done: a connection left open would keep the test database from being dropped
    at the end of the run."""

    def run():
        try:
            call(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def in_parallel(calls: list) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [in_thread(run, i, call) for i, call in enumerate(calls)]
    for thread in threads:
        thread.join()
    return results
