"""The product's WSGI application, plus a count of SQL statements per request.

Only the benchmark serves this (`gunicorn bench.wsgi_counting:application`); the
product never sets the header. Django runs every statement of a request on the
request thread's connection, so a wrapper installed around the call sees them all:
the ORM's queries and savepoints, not BEGIN/COMMIT (psycopg sends those itself).
"""

from django.db import connection

from sat_portal.wsgi import application as product_application

HEADER = "X-Bench-Queries"


def application(environ, start_response):
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    def counting_start_response(status, headers, exc_info=None):
        return start_response(status, [*headers, (HEADER, str(count))], exc_info)

    with connection.execute_wrapper(counter):
        return product_application(environ, counting_start_response)
