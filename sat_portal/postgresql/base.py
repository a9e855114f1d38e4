"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django asks a reused connection `SELECT 1` before the first
query of every request: one of a SCIM read's four round trips (issue 16). A connection
that PostgreSQL or the network closed (a restart, a failover, a cut link) has its end
waiting to be read on the socket, or libpq already knows it is broken; a healthy idle
connection has nothing to read. So the check looks at the socket instead of asking.

What it cannot see is a peer gone silent (a partition): there the request's first query
gives up after TCP_USER_TIMEOUT (settings: DB_CONNECT_TIMEOUT), the request answers 503,
and the broken connection is closed at its end, as with `SELECT 1`.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False  # an interrupted transaction: start again on a fresh connection
        # poll, not select: select cannot watch a socket numbered 1024 or more.
        poller = select.poll()
        try:
            poller.register(pgconn.socket, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
