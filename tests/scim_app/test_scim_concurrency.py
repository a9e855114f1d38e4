"""Entra keeps many requests in flight. On PostgreSQL, where they really run in
parallel: one of many identical creates wins, and parallel membership PATCHes on
one group lose nothing."""

import pytest
from django.db import connection

from scim_app.models import Membership, ScimUser
from sites.credentials import scim_tokens
from sites.models import MSP, Site
from tests.conftest import ScimClient
from tests.support.parallel import in_parallel

from .conftest import entra_user, patch_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs a database that runs requests in parallel"
    ),
]


@pytest.fixture
def scim():
    site = Site.objects.create(msp=MSP.objects.create(name="Parallel MSP"), name="Contoso")
    return ScimClient(scim_tokens.issue_token(site)[1])


def test_parallel_creates_of_one_username_give_one_201_and_the_rest_409(scim):
    body = entra_user("dana.fisher@contoso.example")
    responses = in_parallel([lambda: ScimClient(scim.token).post("Users", body) for _ in range(10)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9
    assert all(r.json()["scimType"] == "uniqueness" for r in responses if r.status_code == 409)
    assert ScimUser.objects.filter(user_name="dana.fisher@contoso.example").count() == 1


def test_twenty_parallel_membership_patches_lose_nothing(scim):
    group_id = scim.post("Groups", {"displayName": "Finance Team"}).json()["id"]
    ids = [scim.post("Users", entra_user(f"u{i}@contoso.example")).json()["id"] for i in range(40)]

    def add(pair):
        return lambda: ScimClient(scim.token).patch(
            f"Groups/{group_id}",
            patch_body({"op": "Add", "path": "members", "value": [{"value": i} for i in pair]}),
        )

    responses = in_parallel([add(ids[i : i + 2]) for i in range(0, 40, 2)])
    assert [r.status_code for r in responses] == [204] * 20
    assert Membership.objects.filter(group_id=group_id).count() == 40

    def remove(i):
        return lambda: ScimClient(scim.token).patch(
            f"Groups/{group_id}",
            patch_body({"op": "remove", "path": f'members[value eq "{ids[i]}"]'}),
        )

    responses = in_parallel([remove(i) for i in range(20)])
    assert [r.status_code for r in responses] == [204] * 20
    assert set(
        map(str, Membership.objects.filter(group_id=group_id).values_list("user_id", flat=True))
    ) == set(ids[20:])
