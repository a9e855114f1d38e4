"""Query budgets: a request costs the same whether the site has 3 users or 300
(and a group 3 members or 300), and whether Entra sends a Secret Token or an OAuth access
token. Every budget counts every statement production sends: the request's own
statements and its provisioning-log row (`log_statements`), and the credential lookup
(one indexed query either way) where the worker does not remember the credential
(sites.remembered: `site_of_size`'s request looked it up, and a change to the site makes
workers look it up again). The tests run outside a test transaction, as production does,
so there are no test-only SAVEPOINTs to leave out, and a SAVEPOINT the code sends counts."""

import pytest

from tests.support.provisioned import bare_user, make_group, make_users

from .conftest import ENTERPRISE_URN, create_group, entra_user, log_statements, patch_body

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = [3, 300]


@pytest.fixture(params=["contoso_scim", "contoso_oauth_scim"], ids=["secret token", "access token"])
def entra(request):
    """Contoso's Entra, with its Secret Token or with an access token."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def site_of_size(contoso, entra):
    def build(size: int):
        users = make_users(contoso, (f"bulk{i}@contoso.example" for i in range(size)))
        group = make_group(contoso, "Everyone", members=users)
        # First use: looks the credential up (then remembered) and writes last_used_at.
        entra.get("Users", count=0)
        return users, group

    return build


def measure(count_queries, call) -> int:
    with count_queries() as queries:
        response = call()
    assert response.status_code < 300, response.content
    return len(queries)


@pytest.mark.parametrize("size", SIZES)
def test_entra_cycle_requests_cost_a_constant_number_of_queries(
    contoso, entra, site_of_size, count_queries, size
):
    users, group = site_of_size(size)
    manager = {ENTERPRISE_URN: {"manager": {"value": str(users[0].id)}}}
    managed = bare_user(contoso, "managed@contoso.example", **manager)
    for i in range(4):
        bare_user(contoso, f"managed{i}@contoso.example", **manager)
    scim = entra
    read, write = log_statements("GET"), log_statements("POST")
    budget = {
        # SELECT the match
        "probe": (
            1 + read,
            lambda: scim.get("Users", filter='userName eq "nobody@contoso.example"'),
        ),
        "filter hit": (
            1 + read,
            lambda: scim.get("Users", filter='userName eq "bulk1@contoso.example"'),
        ),
        "get user": (1 + read, lambda: scim.get(f"Users/{users[0].id}")),
        # the manager's name and $ref come in the same SELECT (a join), not a query each
        "get user with a manager": (1 + read, lambda: scim.get(f"Users/{managed.id}")),
        # SELECT a page, COUNT (the page is full)
        "list users with managers": (
            2 + read,
            lambda: scim.get("Users", filter='userName sw "managed"', count=5),
        ),
        # INSERT: a site that has never deleted anyone has no one to revive
        "create user": (1 + write, lambda: scim.post("Users", entra_user("new@contoso.example"))),
        # SELECT ... FOR UPDATE, UPDATE
        "patch user": (
            2 + write,
            lambda: scim.patch(
                f"Users/{users[1].id}",
                patch_body({"op": "Replace", "path": "active", "value": "False"}),
            ),
        ),
        # SELECT ... FOR UPDATE, UPDATE (a soft delete), and once in the site's
        # life, at its first delete, UPDATE the site: from now on POSTs look for twins
        "first delete": (3 + write, lambda: scim.delete(f"Users/{users[-1].id}")),
        # the credential again (the first delete changed the site), SELECT ... FOR
        # UPDATE, UPDATE
        "delete user": (3 + write, lambda: scim.delete(f"Users/{users[-2].id}")),
        # SELECT a deleted user to revive (none matches), INSERT
        "create user after deletes": (
            2 + write,
            lambda: scim.post("Users", entra_user("newer@contoso.example")),
        ),
        "list page": (2 + read, lambda: scim.get("Users", count=2)),
        "group filter": (
            1 + read,
            lambda: scim.get(
                "Groups", excludedAttributes="members", filter='displayName eq "Everyone"'
            ),
        ),
        "get group without members": (
            1 + read,
            lambda: scim.get(f"Groups/{group.id}", excludedAttributes="members"),
        ),
        # SELECT group, SELECT the users, INSERT memberships, UPDATE lastModified
        "add members": (
            4 + write,
            lambda: scim.patch(
                f"Groups/{group.id}",
                patch_body(
                    {"op": "Add", "path": "members", "value": [{"value": str(users[0].id)}]}
                ),
            ),
        ),
        # SELECT group, DELETE membership, UPDATE lastModified
        "remove member": (
            3 + write,
            lambda: scim.patch(
                f"Groups/{group.id}",
                patch_body({"op": "remove", "path": f'members[value eq "{users[2].id}"]'}),
            ),
        ),
        "count only": (1 + read, lambda: scim.get("Users", count=0)),
    }
    spent = {name: measure(count_queries, call) for name, (_, call) in budget.items()}
    assert spent == {name: limit for name, (limit, _) in budget.items()}


@pytest.mark.parametrize("size", SIZES)
def test_listing_groups_with_members_is_one_query_for_all_members(
    entra, site_of_size, count_queries, size
):
    site_of_size(size)
    create_group(entra, "Second")
    # SELECT groups, SELECT their members
    assert measure(count_queries, lambda: entra.get("Groups")) == 2 + log_statements("GET")
