import pytest

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR_URN]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert body["detail"]
    return body


def entra_user(user_name: str, **overrides) -> dict:
    """A POST /Users body exactly as Entra's provisioning service sends it."""
    given, _, family = user_name.split("@")[0].partition(".")
    body = {
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": f"ext-{user_name}",
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": f"{given.title()} {family.title()}",
            "familyName": family.title(),
            "givenName": given.title(),
        },
        "roles": [],
    }
    body.update(overrides)
    return body


def patch_body(*operations: dict) -> dict:
    return {"schemas": [PATCH_URN], "Operations": list(operations)}


def create_user(scim, user_name: str, **overrides) -> dict:
    response = scim.post("Users", entra_user(user_name, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


def create_group(scim, display_name: str, **fields) -> dict:
    body = {"schemas": [GROUP_URN], "displayName": display_name, **fields}
    response = scim.post("Groups", body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def dana(contoso_scim):
    return create_user(contoso_scim, "dana.fisher@contoso.example")


@pytest.fixture
def finance(contoso_scim):
    return create_group(contoso_scim, "Finance Team", externalId="4be0d6a2")


class QueryCounter:
    """Counts the SQL statements of a block, every one of them (BEGIN, COMMIT and
    SAVEPOINTs included): use it outside a test transaction (`transaction=True`), where
    only what production sends is sent."""

    def __init__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.context = CaptureQueriesContext(connection)

    def __enter__(self):
        self.context.__enter__()
        return self

    def __exit__(self, *exc):
        self.context.__exit__(*exc)

    @property
    def statements(self) -> list[str]:
        return [q["sql"] for q in self.context.captured_queries]

    def __len__(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries():
    return QueryCounter


def log_statements(method: str) -> int:
    """What every SCIM request costs besides its own queries: its provisioning-log row (one
    INSERT; on PostgreSQL a read's carries a SET LOCAL, in the same statement, that spares
    its commit a disk flush) and, for a write, the transaction (BEGIN, COMMIT) that its
    changes and its row commit in; a read runs without one."""
    return 1 if method in ("GET", "HEAD") else 3
