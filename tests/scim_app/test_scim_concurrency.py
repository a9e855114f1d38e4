"""Entra keeps many requests in flight. On PostgreSQL, where they really run in
parallel: one of many identical creates wins, and parallel membership PATCHes on
one group lose nothing."""

import threading

import pytest
from django.db import connection, connections, transaction

from scim_app.models import Membership, ScimGroup, ScimUser
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


def test_a_membership_change_moves_lastmodified_even_when_another_request_held_the_group(scim):
    """A membership PATCH does not wait for the group's row (issue 16); when another
    request holds it and then rolls back (a PUT answered 409, say), the change must still
    show in lastModified, or a sync by `meta.lastModified gt` misses it for good."""
    group_id = scim.post("Groups", {"displayName": "Finance Team"}).json()["id"]
    user_id = scim.post("Users", entra_user("dana.fisher@contoso.example")).json()["id"]
    before = scim.get(f"Groups/{group_id}").json()["meta"]["lastModified"]
    holding, release = threading.Event(), threading.Event()

    def hold_the_group_then_roll_back():
        try:
            with transaction.atomic():
                list(ScimGroup.objects.select_for_update().filter(pk=group_id))
                holding.set()
                release.wait(10)
                transaction.set_rollback(True)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_group_then_roll_back)
    holder.start()
    assert holding.wait(10)
    add = {"op": "add", "path": "members", "value": [{"value": user_id}]}
    assert scim.patch(f"Groups/{group_id}", patch_body(add)).status_code == 204
    release.set()
    holder.join()
    group = scim.get(f"Groups/{group_id}").json()
    assert [member["value"] for member in group["members"]] == [user_id]
    assert group["meta"]["lastModified"] > before


def test_parallel_patches_of_one_groups_attributes_keep_every_change(scim):
    """Each rewrites the group's row: unless they take turns, the last to save puts back
    what the other one changed, and both were answered 204."""
    for round_ in range(10):
        group_id = scim.post("Groups", {"displayName": f"Team {round_}"}).json()["id"]
        replacements = {"externalId": f"ext-{round_}", "displayName": f"Team {round_} renamed"}

        def replace(path, value, group_id=group_id):
            body = patch_body({"op": "replace", "path": path, "value": value})
            return lambda: ScimClient(scim.token).patch(f"Groups/{group_id}", body)

        responses = in_parallel([replace(*change) for change in replacements.items()])
        assert [r.status_code for r in responses] == [204, 204]
        group = scim.get(f"Groups/{group_id}").json()
        assert {key: group.get(key) for key in replacements} == replacements


def test_parallel_replaces_of_a_groups_members_leave_one_of_the_lists(scim):
    group_id = scim.post("Groups", {"displayName": "Finance Team"}).json()["id"]
    ids = [scim.post("Users", entra_user(f"u{i}@contoso.example")).json()["id"] for i in range(40)]
    lists = [ids[i : i + 4] for i in range(0, 40, 4)]

    def replace(members):
        body = patch_body(
            {"op": "replace", "path": "members", "value": [{"value": i} for i in members]}
        )
        return lambda: ScimClient(scim.token).patch(f"Groups/{group_id}", body)

    responses = in_parallel([replace(members) for members in lists])
    assert [r.status_code for r in responses] == [204] * 10
    kept = set(
        map(str, Membership.objects.filter(group_id=group_id).values_list("user_id", flat=True))
    )
    assert kept in [set(members) for members in lists]
