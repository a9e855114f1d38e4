"""Direct database access for the scaling and floor modes: bulk loads with COPY and the
plain-psycopg floor. Column lists follow scim_app/models.py."""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import psycopg

USER_COLUMNS = (
    "id, site_id, data, user_name, external_id, display_name, given_name, family_name,"
    " title, department, employee_number, work_email, email_values, active, created,"
    " last_modified"
)


def connect(database_url: str) -> psycopg.Connection:
    return psycopg.connect(database_url, autocommit=True)


def site_for_token(conn: psycopg.Connection, token: str) -> int:
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = conn.execute(
        "SELECT site_id FROM sites_scimtoken WHERE secret_hash = %s", (digest,)
    ).fetchone()
    if row is None:
        raise SystemExit("The token is not in this database: check --database-url.")
    return row[0]


def counts(conn: psycopg.Connection, site_ids: list[int]) -> dict[str, int]:
    return {
        "users": conn.execute(
            "SELECT count(*) FROM scim_app_scimuser WHERE site_id = ANY(%s)", (site_ids,)
        ).fetchone()[0],
        "groups": conn.execute(
            "SELECT count(*) FROM scim_app_scimgroup WHERE site_id = ANY(%s)", (site_ids,)
        ).fetchone()[0],
        "memberships": conn.execute(
            "SELECT count(*) FROM scim_app_membership m JOIN scim_app_scimgroup g"
            " ON g.id = m.group_id WHERE g.site_id = ANY(%s)",
            (site_ids,),
        ).fetchone()[0],
    }


def user_row(site_id: int, user_name: str, number: int) -> tuple:
    """A user as POST /Users stores one: the SCIM document and the columns mirroring it."""
    now = datetime.now(UTC)
    external_id = str(uuid.uuid4())
    document = {
        "externalId": external_id,
        "userName": user_name,
        "name": {
            "givenName": "Bulk",
            "familyName": f"User{number}",
            "formatted": f"Bulk User{number}",
        },
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "active": True,
    }
    return (
        uuid.uuid4(),
        site_id,
        json.dumps(document),
        user_name,
        external_id,
        "",
        "Bulk",
        f"User{number}",
        "",
        "",
        "",
        user_name,
        f"\n{user_name.lower()}\n",
        True,
        now,
        now,
    )


def load_users(conn: psycopg.Connection, site_id: int, user_names: list[str]) -> list[uuid.UUID]:
    """COPY users into a site; return their ids in the same order."""
    ids = []
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY scim_app_scimuser ({USER_COLUMNS}) FROM STDIN") as copy,
    ):
        for number, user_name in enumerate(user_names):
            row = user_row(site_id, user_name, number)
            ids.append(row[0])
            copy.write_row(row)
    # What autovacuum would soon do on a real database: statistics and the visibility
    # map (index-only scans), so the first figures are not those of a table never vacuumed.
    conn.execute("VACUUM ANALYZE scim_app_scimuser")
    return ids


def create_group(
    conn: psycopg.Connection, site_id: int, name: str, member_ids: list[uuid.UUID]
) -> uuid.UUID:
    group_id = uuid.uuid4()
    now = datetime.now(UTC)
    external_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO scim_app_scimgroup (id, site_id, data, display_name, external_id, created,"
        " last_modified) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            group_id,
            site_id,
            json.dumps({"displayName": name, "externalId": external_id}),
            name,
            external_id,
            now,
            now,
        ),
    )
    with (
        conn.cursor() as cur,
        cur.copy("COPY scim_app_membership (group_id, user_id, created) FROM STDIN") as copy,
    ):
        for user_id in member_ids:
            copy.write_row((group_id, user_id, now))
    conn.execute("VACUUM ANALYZE scim_app_membership")
    return group_id


def floor_select(conn: psycopg.Connection, site_id: int, user_name: str) -> None:
    """What `GET /Users?filter=userName eq` must at least do: one indexed lookup."""
    conn.execute(
        f"SELECT {USER_COLUMNS} FROM scim_app_scimuser"
        " WHERE site_id = %s AND lower(user_name) = lower(%s)",
        (site_id, user_name),
    ).fetchall()


def floor_insert(conn: psycopg.Connection, site_id: int, user_name: str, number: int) -> None:
    """What `POST /Users` must at least do: one committed INSERT."""
    conn.execute(
        f"INSERT INTO scim_app_scimuser ({USER_COLUMNS})"
        f" VALUES ({', '.join(['%s'] * len(USER_COLUMNS.split(',')))})",
        user_row(site_id, user_name, number),
    )
