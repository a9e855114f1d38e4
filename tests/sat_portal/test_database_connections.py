"""Reused database connections (sat_portal/postgresql): one that still works is kept, one
that PostgreSQL closed is replaced, whatever the number of files the process has open."""

import os
import resource
import subprocess
import sys
import time

import pytest
from django.db import connection, connections

from tests.conftest import ROOT

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


def test_a_scim_request_after_postgresql_closed_the_connection_is_answered(contoso_scim):
    """The cursor the SCIM statements keep open (sat_portal.prepared.cursor) goes with its
    connection: the request that replaces a closed connection runs on a new one's."""
    created = contoso_scim.post("Users", {"userName": "ada@contoso.com", "active": True})
    user = f"Users/{created.json()['id']}"
    assert contoso_scim.get(user).status_code == 200
    closed_pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [closed_pid])
    finally:
        other.close()
    for _ in range(100):
        if not connection.is_usable():
            break
        time.sleep(0.01)
    # What the end of a request does in production (Django's test client skips it): the
    # next request checks its connection before the first query.
    connection.close_if_unusable_or_obsolete()

    response = contoso_scim.get(user)

    assert response.status_code == 200, response.content
    assert response.json()["userName"] == "ada@contoso.com"
    assert connection.connection.info.backend_pid != closed_pid


def prepared_statements(wrapper) -> list[str]:
    """What PostgreSQL has prepared on this connection (not by SQL PREPARE)."""
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


def test_the_lookups_every_scim_request_makes_are_prepared_once_per_connection(
    contoso, contoso_scim, settings
):
    # Without REDIS_URL, workers remember no credential (sites.remembered): every request
    # looks its credential up.
    settings.SCIM_REMEMBER_CREDENTIALS = False
    created = contoso_scim.post("Users", {"userName": "ada@contoso.com", "active": True})
    assert created.status_code == 201
    for _ in range(6):
        assert contoso_scim.get(f"Users/{created.json()['id']}").status_code == 200
    assert contoso.provisioning_log.filter(method="GET").count() == 6
    prepared = prepared_statements(connection)
    assert any('FROM "sites_scimtoken"' in statement for statement in prepared)
    assert any('FROM "scim_app_scimuser"' in statement for statement in prepared)
    # The read's log row too, with its commit that does not wait for the disk.
    assert any(
        'INSERT INTO "scim_app_provisioninglogentry"' in statement
        and "synchronous_commit" in statement
        for statement in prepared
    )


COUNT_PREPARED = """
from django.db import connection
for number in range(6):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s + 1", [number])
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql")
    print(cursor.fetchone()[0])
"""


@pytest.mark.parametrize(("setting", "prepared"), [("true", 1), ("false", 0)])
def test_db_prepared_statements_turns_preparing_on_and_off(setting, prepared):
    """Off for a pooler that cannot keep prepared statements (PgBouncer in transaction
    mode without max_prepared_statements)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", COUNT_PREPARED],
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": "", "DATABASE_URL": url, "DB_PREPARED_STATEMENTS": setting},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == prepared
