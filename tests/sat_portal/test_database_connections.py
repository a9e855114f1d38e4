"""Reused database connections (sat_portal/postgresql): one that still works is kept, one
that PostgreSQL closed is replaced, whatever the number of files the process has open."""

import os
import resource
import time

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
]


@pytest.fixture
def fresh_connection():
    wrapper = connections.create_connection("default")
    yield wrapper
    wrapper.close()


@pytest.fixture
def many_open_files():
    """Enough open files that the next socket's number is past 1024 (select()'s limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip("the process may not open 2048 files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    files = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    yield
    for fd in files:
        os.close(fd)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_working_connection_on_a_high_numbered_socket_is_kept(many_open_files, fresh_connection):
    fresh_connection.ensure_connection()
    assert fresh_connection.connection.pgconn.socket >= 1024
    assert fresh_connection.is_usable()


def test_a_connection_postgresql_closed_is_not_reused(fresh_connection):
    fresh_connection.ensure_connection()
    assert fresh_connection.is_usable()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(%s)", [fresh_connection.connection.info.backend_pid]
        )
    # The server's goodbye reaches the socket a moment later.
    for _ in range(100):
        if not fresh_connection.is_usable():
            break
        time.sleep(0.01)
    assert not fresh_connection.is_usable()
