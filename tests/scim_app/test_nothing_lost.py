"""Nothing Entra does destroys data an MSP cannot get back: deletes are soft and revivable,
people restore or purge, a mass deprovisioning is noticed, hold mode keeps deletes from
being applied, and every change is in the history.

Contoso's Entra provisions Dana (in Finance Team); an admin narrows the provisioning
scope and Entra deletes her; later she is assigned again.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from sat_portal import housekeeping
from scim_app.models import Membership, ProvisioningLogEntry, ScimGroup, ScimUser
from scim_app.resources import lifecycle
from sites.models import Site
from tests.support.admin import signed_in_client

from .conftest import assert_scim_error, create_group, create_user, entra_user, patch_body

DANA = "dana.fisher@contoso.example"


@pytest.fixture
def dana(contoso_scim):
    return create_user(contoso_scim, DANA)


@pytest.fixture
def finance(contoso_scim, dana):
    group = create_group(contoso_scim, "Finance Team", externalId="g-finance")
    contoso_scim.patch(
        f"Groups/{group['id']}",
        patch_body({"op": "Add", "path": "members", "value": [{"value": dana["id"]}]}),
    )
    return group


def delete(scim, resource: str, id_: str) -> None:
    assert scim.delete(f"{resource}/{id_}").status_code == 204


def names(scim, filter_text: str) -> list[str]:
    return [u["userName"] for u in scim.get("Users", filter=filter_text).json()["Resources"]]


def test_a_deleted_user_is_gone_for_scim_in_every_way(contoso_scim, dana, finance):
    delete(contoso_scim, "Users", dana["id"])

    assert_scim_error(contoso_scim.get(f"Users/{dana['id']}"), 404)
    assert_scim_error(contoso_scim.patch(f"Users/{dana['id']}", patch_body()), 404)
    assert_scim_error(contoso_scim.delete(f"Users/{dana['id']}"), 404)
    assert names(contoso_scim, f'userName eq "{DANA}"') == []
    assert contoso_scim.get("Users").json()["totalResults"] == 0
    group = contoso_scim.get(f"Groups/{finance['id']}").json()
    assert group["members"] == []
    # Kept, with her membership, for the retention period.
    assert ScimUser.objects.get(pk=dana["id"]).deleted_at is not None
    assert Membership.objects.filter(user_id=dana["id"]).exists()


def test_entra_creating_her_again_revives_the_same_record_with_its_history(
    contoso_scim, dana, finance
):
    contoso_scim.patch(
        f"Users/{dana['id']}", patch_body({"op": "Replace", "path": "title", "value": "CFO"})
    )
    delete(contoso_scim, "Users", dana["id"])

    response = contoso_scim.post("Users", entra_user(DANA, displayName="Dana F."))

    assert response.status_code == 201
    assert response.json()["id"] == dana["id"]
    assert response.json()["displayName"] == "Dana F." and "title" not in response.json()
    assert ScimUser.objects.count() == 1
    # Her old memberships went: Entra sends the current ones next.
    assert contoso_scim.get(f"Groups/{finance['id']}").json()["members"] == []
    summaries = list(
        ProvisioningLogEntry.objects.filter(resource_id=dana["id"])
        .order_by("created", "id")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        f"created user {DANA}",
        f"updated user {DANA}: title",
        f"deleted user {DANA}",
        f"revived user {DANA}",
    ]
    revived = ProvisioningLogEntry.objects.get(summary=f"revived user {DANA}")
    assert {"attribute": "title", "old": "CFO", "new": ""} in revived.changes


def test_without_an_external_id_the_user_name_matches_ignoring_case(contoso_scim):
    user = create_user(contoso_scim, "svc@contoso.example", externalId=None)
    delete(contoso_scim, "Users", user["id"])
    again = contoso_scim.post("Users", entra_user("SVC@contoso.example", externalId=None))
    assert again.json()["id"] == user["id"]


def test_a_different_external_id_is_a_different_person(contoso_scim, dana):
    delete(contoso_scim, "Users", dana["id"])
    other = contoso_scim.post("Users", entra_user(DANA, externalId="someone-else"))
    assert other.status_code == 201 and other.json()["id"] != dana["id"]
    assert ScimUser.objects.live().count() == 1 and ScimUser.objects.deleted().count() == 1


def test_after_the_retention_period_a_new_record_is_made(contoso_scim, dana, settings):
    delete(contoso_scim, "Users", dana["id"])
    days = settings.SCIM_DELETED_RETENTION_DAYS + 1
    ScimUser.objects.update(deleted_at=timezone.now() - timedelta(days=days))
    assert contoso_scim.post("Users", entra_user(DANA)).json()["id"] != dana["id"]


def test_a_revival_whose_user_name_is_taken_is_409_and_changes_nothing(contoso_scim, dana):
    delete(contoso_scim, "Users", dana["id"])
    create_user(contoso_scim, "taken@contoso.example")
    body = entra_user("taken@contoso.example", externalId=f"ext-{DANA}")
    assert_scim_error(contoso_scim.post("Users", body), 409, "uniqueness")
    assert ScimUser.objects.get(pk=dana["id"]).deleted_at is not None


def test_a_deleted_group_is_gone_and_comes_back_as_the_same_group(contoso_scim, finance):
    delete(contoso_scim, "Groups", finance["id"])
    assert_scim_error(contoso_scim.get(f"Groups/{finance['id']}"), 404)
    filtered = contoso_scim.get("Groups", filter='displayName eq "Finance Team"').json()
    assert filtered["totalResults"] == 0

    again = contoso_scim.post("Groups", {"displayName": "Finance Team", "externalId": "g-finance"})
    assert again.status_code == 201 and again.json()["id"] == finance["id"]
    assert ScimGroup.objects.count() == 1


def test_expired_deletes_are_purged_in_batches_with_their_memberships(
    contoso, contoso_scim, settings, monkeypatch
):
    monkeypatch.setattr(lifecycle, "PURGE_BATCH", 2)
    group = create_group(contoso_scim, "Everyone")
    ids = [create_user(contoso_scim, f"u{i}@contoso.example")["id"] for i in range(5)]
    contoso_scim.patch(
        f"Groups/{group['id']}",
        patch_body({"op": "Add", "path": "members", "value": [{"value": i} for i in ids]}),
    )
    for user_id in ids[:4]:
        delete(contoso_scim, "Users", user_id)
    old = timezone.now() - timedelta(days=settings.SCIM_DELETED_RETENTION_DAYS + 1)
    ScimUser.objects.filter(pk__in=ids[:3]).update(deleted_at=old)

    assert lifecycle.purge_expired() is True  # a full batch: maybe more
    assert ScimUser.objects.count() == 3
    assert lifecycle.purge_expired() is False
    assert sorted(str(pk) for pk in ScimUser.objects.values_list("pk", flat=True)) == sorted(
        ids[3:]
    )
    assert set(Membership.objects.values_list("user_id", flat=True)) == {
        ScimUser.objects.get(pk=ids[3]).pk,
        ScimUser.objects.get(pk=ids[4]).pk,
    }


def test_housekeeping_runs_every_job_until_done(contoso, contoso_scim, settings, monkeypatch):
    monkeypatch.setattr(lifecycle, "PURGE_BATCH", 2)
    for i in range(5):
        delete(contoso_scim, "Users", create_user(contoso_scim, f"u{i}@contoso.example")["id"])
    old = timezone.now() - timedelta(days=settings.SCIM_DELETED_RETENTION_DAYS + 1)
    ScimUser.objects.update(deleted_at=old)
    ProvisioningLogEntry.objects.update(
        created=timezone.now() - timedelta(days=settings.PROVISIONING_LOG_RETENTION_DAYS + 1)
    )

    batches = housekeeping.run_once()

    assert batches["scim_app.resources.lifecycle.purge_expired"] == 3
    assert not ScimUser.objects.exists() and not ProvisioningLogEntry.objects.exists()


# --- people restore and purge ---------------------------------------------------------


def user_changelist(client, **params):
    return client.get(reverse("admin:scim_app_scimuser_changelist"), params)


def test_support_finds_deleted_users_and_a_superuser_restores_them(
    root, contoso_scim, dana, finance
):
    delete(contoso_scim, "Users", dana["id"])
    admin = signed_in_client(root)
    assert DANA in user_changelist(admin, state="deleted").text
    assert DANA not in user_changelist(admin, state="live").text

    response = admin.post(
        reverse("admin:scim_app_scimuser_changelist"),
        {"action": "restore", "_selected_action": [dana["id"]]},
        follow=True,
    )

    assert "Restored 1." in response.text
    assert contoso_scim.get(f"Users/{dana['id']}").status_code == 200
    members = contoso_scim.get(f"Groups/{finance['id']}").json()["members"]
    assert [m["value"] for m in members] == [dana["id"]]  # an undo: memberships too
    entry = ProvisioningLogEntry.objects.get(method="ADMIN")
    assert entry.actor == root and entry.summary == f"restored provisioned user {DANA}"


def test_a_restore_whose_name_is_taken_now_is_refused(root, contoso_scim, dana):
    delete(contoso_scim, "Users", dana["id"])
    create_user(contoso_scim, DANA, externalId="new-person")
    response = signed_in_client(root).post(
        reverse("admin:scim_app_scimuser_changelist"),
        {"action": "restore", "_selected_action": [dana["id"]]},
        follow=True,
    )
    assert "Not restored, their name is in use" in response.text
    assert ScimUser.objects.get(pk=dana["id"]).deleted_at is not None


def test_support_staff_cannot_restore(sam, contoso_scim, dana):
    delete(contoso_scim, "Users", dana["id"])
    page = user_changelist(signed_in_client(sam), state="deleted").text
    assert 'value="restore"' not in page


def test_a_superuser_purges_for_good_and_it_is_recorded(root, contoso_scim, dana, finance):
    url = reverse("admin:scim_app_scimuser_delete", args=[dana["id"]])
    signed_in_client(root).post(url, {"post": "yes"})
    assert not ScimUser.objects.filter(pk=dana["id"]).exists()
    assert not Membership.objects.exists()
    assert ProvisioningLogEntry.objects.get(method="ADMIN").summary.startswith("purged")


# --- the history ----------------------------------------------------------------------


def test_each_change_is_kept_attribute_by_attribute_and_shown_to_support(root, contoso_scim, dana):
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "Add", "path": f"{enterprise}:department", "value": "Sales"}),
    )
    contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body(
            {"op": "Replace", "path": f"{enterprise}:department", "value": "Finance"},
            {"op": "Replace", "path": "active", "value": "False"},
        ),
    )
    entry = ProvisioningLogEntry.objects.filter(method="PATCH").latest("id")
    assert entry.changes == [
        {"attribute": "active", "old": "true", "new": "false"},
        {"attribute": "department", "old": "Sales", "new": "Finance"},
    ]
    page = (
        signed_in_client(root)
        .get(reverse("admin:scim_app_scimuser_change", args=[dana["id"]]))
        .text
    )
    assert escape("department: Sales → Finance") in page
    assert escape("department: — → Sales") in page
    assert "by Entra" in page


# --- the mass-deprovisioning guard and hold mode ----------------------------------------


@pytest.fixture
def guard(settings):
    settings.DEPROVISIONING_ALERT_MINIMUM = 3
    settings.DEPROVISIONING_ALERT_SHARE = 0.2
    settings.EMAIL_ENABLED = True


def disable(scim, user_id: str):
    return scim.patch(
        f"Users/{user_id}", patch_body({"op": "Replace", "path": "active", "value": "False"})
    )


def test_a_mass_deprovisioning_flags_the_site_and_mails_its_admins(
    guard, contoso, contoso_scim, alice, bob, mailoutbox, django_capture_on_commit_callbacks
):
    alice.email, bob.email = "alice@northwind.example", "bob@northwind.example"
    alice.save(), bob.save()
    ids = [create_user(contoso_scim, f"u{i}@contoso.example")["id"] for i in range(10)]
    disable(contoso_scim, ids[0])
    delete(contoso_scim, "Users", ids[1])
    contoso.refresh_from_db()
    assert contoso.deprovisioning_alert_at is None  # 2: below the minimum of 3

    with django_capture_on_commit_callbacks(execute=True):
        response = disable(contoso_scim, ids[2])

    assert response.status_code == 200  # Entra never sees the guard
    contoso.refresh_from_db()
    assert contoso.deprovisioning_alert_at is not None
    alert = ProvisioningLogEntry.objects.get(method="ALERT")
    assert alert.site == contoso and "3 of 10 active users" in alert.summary
    [mail] = mailoutbox
    assert mail.to == ["alice@northwind.example"]  # admins only
    assert "Contoso" in mail.subject and "/sites/" in mail.body


def test_a_small_share_of_a_big_site_is_not_a_mass_deprovisioning(guard, contoso, contoso_scim):
    ids = [create_user(contoso_scim, f"u{i}@contoso.example")["id"] for i in range(20)]
    for user_id in ids[:3]:  # 3 of 20: 15%
        disable(contoso_scim, user_id)
    contoso.refresh_from_db()
    assert contoso.deprovisioning_alert_at is None


def test_re_disabling_an_inactive_user_does_not_count(guard, contoso, contoso_scim):
    ids = [create_user(contoso_scim, f"u{i}@contoso.example")["id"] for i in range(5)]
    for _ in range(3):
        disable(contoso_scim, ids[0])
    contoso.refresh_from_db()
    assert contoso.deprovisioning_alert_at is None


def test_hold_mode_turns_deletes_into_deactivations_until_an_admin_applies_them(
    contoso, contoso_scim, dana
):
    contoso.hold_deletes = True
    contoso.save()

    assert contoso_scim.delete(f"Users/{dana['id']}").status_code == 204
    user = contoso_scim.get(f"Users/{dana['id']}")
    assert user.status_code == 200 and user.json()["active"] is False
    assert contoso_scim.delete(f"Users/{dana['id']}").status_code == 204  # again: harmless
    assert lifecycle.held_deletes(contoso).count() == 1

    assert lifecycle.apply_held_deletes(contoso) == 1
    assert_scim_error(contoso_scim.get(f"Users/{dana['id']}"), 404)
    assert ScimUser.objects.get(pk=dana["id"]).deleted_at is not None


def test_a_held_delete_an_admin_applied_is_revived_when_entra_creates_her_again(
    contoso, contoso_scim, dana
):
    Site.objects.filter(pk=contoso.pk).update(hold_deletes=True)
    assert contoso_scim.delete(f"Users/{dana['id']}").status_code == 204
    assert lifecycle.apply_held_deletes(Site.objects.get(pk=contoso.pk)) == 1

    again = contoso_scim.post("Users", entra_user(DANA))

    assert again.status_code == 201 and again.json()["id"] == dana["id"]
    assert ScimUser.objects.count() == 1


def test_held_deletes_can_be_dropped_keeping_the_users(contoso, contoso_scim, dana):
    contoso.hold_deletes = True
    contoso.save()
    contoso_scim.delete(f"Users/{dana['id']}")
    assert lifecycle.keep_held(contoso) == 1
    assert lifecycle.held_deletes(contoso).count() == 0
    assert contoso_scim.get(f"Users/{dana['id']}").json()["active"] is False
