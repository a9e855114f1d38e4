"""The console's Team page: Alice (admin at Northwind IT) invites colleagues, changes their
roles and removes them; Bob (read-only) sees the team and changes nothing; Charlie
(Tailspin) cannot reach Northwind's staff. Northwind always keeps an admin who can sign in,
and every change is in the team's audit trail.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from sites import team
from sites.models import Staff, StaffEvent
from tests.conftest import PASSWORD, make_staff
from tests.support.admin import count_queries, signed_in_client
from tests.support.api import ApiClient, key_for
from tests.support.parallel import in_parallel

NEW_PASSWORD = "a-long-new-password-for-bob2"
User = get_user_model()


@pytest.fixture
def alice_client(signed_in, alice):
    return signed_in(alice)


def invite(client: Client, email: str, role: str = "read_only"):
    """Press Invite on a freshly loaded Team page, as a person would."""
    page = client.get("/team/").content.decode()
    newest = re.search(r'name="newest" value="(\d+)"', page)[1]
    return client.post("/team/", {"email": email, "role": role, "newest": newest})


def link_in(response) -> str:
    return re.search(r'value="(http://localhost:8000/accounts/set-password/[^"]+)"', response.text)[
        1
    ]


def set_password(client: Client, link: str, password: str = NEW_PASSWORD):
    form = client.get(urlsplit(link).path, follow=True)
    assert "Choose your password" in form.text
    return client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


def staff_url(user, action: str) -> str:
    return f"/team/{user.staff.public_id}/{action}/"


def member(email: str) -> Staff:
    return Staff.objects.select_related("user").get(user__username=email)


# --- who sees what --------------------------------------------------------------------


def test_every_member_sees_their_msps_team_and_no_other(signed_in, alice, bob, charlie):
    for client in (signed_in(alice), signed_in(bob)):
        page = client.get("/team/").text
        assert 'data-member="alice"' in page and 'data-member="bob"' in page
        assert "charlie" not in page
        assert "Admin" in page and "Read-only" in page
    assert "charlie" in signed_in(charlie).get("/team/").text


def test_bob_sees_the_team_but_no_controls_and_every_change_is_403(signed_in, alice, bob):
    client = signed_in(bob)
    page = client.get("/team/").text
    assert "Invite a colleague" not in page and "Remove" not in page
    assert "Only admins invite colleagues" in page
    assert (
        client.post("/team/", {"email": "eve@northwind.example", "role": "admin"}).status_code
        == 403
    )
    assert client.post(staff_url(alice, "role"), {"role": "read_only"}).status_code == 403
    assert client.post(staff_url(alice, "remove")).status_code == 403
    assert client.post(staff_url(alice, "invitation")).status_code == 403
    assert not User.objects.filter(username="eve@northwind.example").exists()
    assert member("alice").is_admin and not StaffEvent.objects.exists()


def test_charlie_cannot_reach_northwinds_staff(signed_in, alice, bob, charlie):
    client = signed_in(charlie)
    assert client.post(staff_url(bob, "role"), {"role": "admin"}).status_code == 404
    assert client.post(staff_url(bob, "remove")).status_code == 404
    assert client.post(staff_url(bob, "invitation")).status_code == 404
    assert not member("bob").is_admin and User.objects.get(username="bob").is_active


def test_anonymous_visitors_are_sent_to_sign_in(client, bob):
    assert client.get("/team/")["Location"].startswith("/accounts/login/")
    assert client.post(staff_url(bob, "remove"))["Location"].startswith("/accounts/login/")


def test_changes_need_a_post(alice_client, bob):
    for action in ("role", "remove", "invitation"):
        response = alice_client.get(staff_url(bob, action))
        assert response.status_code == 405 and response["Allow"] == "POST"


def test_the_menu_links_the_team_for_every_member(signed_in, alice, bob):
    assert 'href="/team/"' in signed_in(alice).get("/").text
    assert 'href="/team/"' in signed_in(bob).get("/").text


def test_the_page_takes_the_same_number_of_queries_for_3_or_12_members(alice_client, alice, msp):
    make_staff("bob", msp, Staff.Role.READ_ONLY)
    team.invite(msp, "dana@northwind.example", Staff.Role.ADMIN, by=alice)
    few = count_queries(alice_client, "/team/")
    for i in range(9):
        team.invite(msp, f"eve{i}@northwind.example", Staff.Role.READ_ONLY, by=alice)
    assert count_queries(alice_client, "/team/") == few


# --- inviting ---------------------------------------------------------------------------


def test_alice_invites_a_colleague_and_sees_the_link_once(alice_client, alice, msp):
    response = invite(alice_client, "bob2@northwind.example")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert (
        "Send this link to bob2@northwind.example now. It cannot be shown again." in response.text
    )
    link = link_in(response)
    bob2 = member("bob2@northwind.example")
    assert (bob2.msp, bob2.role) == (msp, Staff.Role.READ_ONLY)
    assert bob2.user.email == "bob2@northwind.example"
    assert not bob2.user.has_usable_password()
    event = StaffEvent.objects.get()
    assert (event.action, event.email, event.new_role, event.actor, event.subject) == (
        StaffEvent.Action.INVITED,
        "bob2@northwind.example",
        Staff.Role.READ_ONLY,
        alice,
        bob2.user,
    )

    listing = alice_client.get("/team/").text
    assert link not in listing and urlsplit(link).path not in listing
    assert "Invited: no password yet" in listing
    assert "alice invited bob2@northwind.example as Read-only" in listing


def test_resending_the_invite_form_invites_nobody_again(alice_client):
    """A reload of the page showing the link re-posts the form it came from."""
    page = alice_client.get("/team/").text
    form = {
        "email": "bob2@northwind.example",
        "role": "read_only",
        "newest": re.search(r'name="newest" value="(\d+)"', page)[1],
    }
    link = link_in(alice_client.post("/team/", form))

    again = alice_client.post("/team/", form, follow=True)

    assert again.redirect_chain == [("/team/", 302)]
    assert "so nobody was invited" in again.text
    assert link not in again.text and "set-password" not in again.text
    assert StaffEvent.objects.count() == 1
    assert alice_client.post("/team/", {**form, "newest": ""}).status_code == 302
    assert User.objects.filter(email="bob2@northwind.example").count() == 1


def test_the_link_sets_a_password_and_signs_the_colleague_in_as_read_only(alice_client):
    link = link_in(invite(alice_client, "bob2@northwind.example"))
    client = Client()

    done = set_password(client, link)

    assert done["Location"] == "/"
    page = client.get("/").text
    assert "bob2@northwind.example · Northwind IT · Read-only" in page
    assert client.post("/sites/add/", {"name": "Litware"}).status_code == 403
    assert User.objects.get(username="bob2@northwind.example").check_password(NEW_PASSWORD)
    client.logout()
    assert "has been used already" in client.get(urlsplit(link).path, follow=True).text
    assert "Invited: no password yet" not in alice_client.get("/team/").text


def test_the_link_is_e_mailed_to_the_colleague_when_e_mail_is_configured(
    alice_client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_ENABLED = True
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(alice_client, "bob2@northwind.example", "admin")
    assert "We have also e-mailed it to them." in response.text
    [mail] = mailoutbox
    assert mail.to == ["bob2@northwind.example"]
    assert mail.subject == "SAT Portal: your invitation to Northwind IT"
    assert link_in(response) in mail.body
    assert "alice invited you to Northwind IT's team on SAT Portal (Admin)" in mail.body


def test_without_e_mail_nothing_is_sent(
    alice_client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_ENABLED = False
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(alice_client, "bob2@northwind.example")
    assert "e-mailed" not in response.text and mailoutbox == []


def test_an_address_any_login_uses_is_a_form_error(alice_client, charlie):
    charlie.email = "charlie@tailspin.example"
    charlie.save()
    taken = invite(alice_client, "Charlie@Tailspin.example")
    assert taken.status_code == 200
    assert "A login with the email address &#x27;Charlie@Tailspin.example&#x27; already exists" in (
        taken.text
    )
    assert "set-password" not in taken.text

    invite(alice_client, "bob2@northwind.example")
    again = invite(alice_client, "BOB2@northwind.example")
    assert "A login named &#x27;BOB2@northwind.example&#x27; already exists" in again.text
    assert User.objects.count() == 3


@pytest.mark.parametrize(
    ("email", "role", "error"),
    [
        ("bob2", "read_only", "Enter a valid email address."),
        ("", "read_only", "This field is required."),
        ("bob2@northwind.example", "owner", "Select a valid choice."),
        ("b" * 140 + "@northwind.example", "admin", "at most 150 characters"),
    ],
)
def test_an_invitation_needs_an_address_and_a_role(alice_client, email, role, error):
    response = invite(alice_client, email, role)
    assert response.status_code == 200
    assert error in response.text
    assert not StaffEvent.objects.exists()


def test_a_new_link_for_a_colleague_who_has_not_chosen_a_password(alice_client, alice, bob):
    first = link_in(invite(alice_client, "bob2@northwind.example"))
    bob2 = member("bob2@northwind.example").user

    renewed = alice_client.post(staff_url(bob2, "invitation"))

    assert renewed.status_code == 200 and "no-store" in renewed["Cache-Control"]
    second = link_in(renewed)
    assert StaffEvent.objects.filter(action=StaffEvent.Action.REINVITED, subject=bob2).exists()
    set_password(Client(), second)
    assert "has been used already" in Client().get(urlsplit(first).path, follow=True).text

    for colleague in (bob2, bob):
        refused = alice_client.post(staff_url(colleague, "invitation"), follow=True)
        assert "has already chosen a password" in refused.text
        assert "set-password" not in refused.text


# --- roles --------------------------------------------------------------------------------


def test_alice_makes_bob_an_admin_and_back(alice_client, alice, bob):
    response = alice_client.post(staff_url(bob, "role"), {"role": "admin"}, follow=True)
    assert "bob is now Admin." in response.text
    assert member("bob").is_admin
    again = alice_client.post(staff_url(bob, "role"), {"role": "admin"}, follow=True)
    assert "bob was Admin already." in again.text
    alice_client.post(staff_url(bob, "role"), {"role": "read_only"})
    assert not member("bob").is_admin
    events = StaffEvent.objects.order_by("id")
    assert [(e.action, e.email, e.old_role, e.new_role, e.actor) for e in events] == [
        ("role_changed", "bob", "read_only", "admin", alice),
        ("role_changed", "bob", "admin", "read_only", alice),
    ]
    assert "alice changed bob from Admin to Read-only" in alice_client.get("/team/").text


def test_an_unknown_role_changes_nothing(alice_client, bob):
    response = alice_client.post(staff_url(bob, "role"), {"role": "owner"}, follow=True)
    assert "Choose Admin or Read-only." in response.text
    assert not member("bob").is_admin and not StaffEvent.objects.exists()


def test_a_demoted_admins_api_key_can_only_read(alice_client, alice, bob, contoso):
    alice_client.post(staff_url(bob, "role"), {"role": "admin"})
    key = ApiClient(key_for(User.objects.get(username="bob")))
    assert key.post("sites/", {"name": "Litware"}).status_code == 201
    alice_client.post(staff_url(bob, "role"), {"role": "read_only"})
    assert key.post("sites/", {"name": "Tailwind"}).status_code == 403
    assert key.get("sites/").status_code == 200


# --- the last admin -----------------------------------------------------------------------


def test_the_last_admin_can_neither_demote_nor_remove_themself(alice_client, alice, bob):
    page = alice_client.get("/team/").text
    assert "(the only admin)" in page
    assert f'action="{staff_url(alice, "remove")}"' not in page
    assert f'action="{staff_url(alice, "role")}"' not in page

    demoted = alice_client.post(staff_url(alice, "role"), {"role": "read_only"}, follow=True)
    assert "alice is the last admin of Northwind IT and cannot be demoted" in demoted.text
    removed = alice_client.post(staff_url(alice, "remove"), follow=True)
    assert "alice is the last admin of Northwind IT and cannot be removed" in removed.text
    assert member("alice").is_admin and User.objects.get(username="alice").is_active
    assert not StaffEvent.objects.exists()


def test_an_invited_admin_counts_once_they_have_chosen_a_password(alice_client, alice):
    link = link_in(invite(alice_client, "dana@northwind.example", "admin"))
    refused = alice_client.post(staff_url(alice, "role"), {"role": "read_only"}, follow=True)
    assert "cannot be demoted" in refused.text

    set_password(Client(), link)
    alice_client.post(staff_url(alice, "role"), {"role": "read_only"})
    assert not member("alice").is_admin
    assert member("dana@northwind.example").is_admin


def test_a_deactivated_admin_does_not_count(alice_client, alice, bob):
    alice_client.post(staff_url(bob, "role"), {"role": "admin"})
    User.objects.filter(username="bob").update(is_active=False)
    refused = alice_client.post(staff_url(alice, "remove"), follow=True)
    assert "cannot be removed" in refused.text


def test_with_two_admins_one_may_leave_and_then_the_other_may_not(signed_in, alice, bob):
    alice_client = signed_in(alice)
    alice_client.post(staff_url(bob, "role"), {"role": "admin"})

    response = alice_client.post(staff_url(alice, "remove"), follow=True)

    assert "alice removed from Northwind IT" in response.text
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert not Staff.objects.filter(user=alice).exists()
    bob_client = signed_in(bob)
    refused = bob_client.post(staff_url(bob, "remove"), follow=True)
    assert "bob is the last admin of Northwind IT and cannot be removed" in refused.text


# --- removing -----------------------------------------------------------------------------


def test_removing_ends_the_colleagues_sessions_and_api_keys_at_once(signed_in, alice, bob):
    alice_client = signed_in(alice)
    bob_client = signed_in(bob)
    alice_client.post(staff_url(bob, "role"), {"role": "admin"})
    key = ApiClient(key_for(User.objects.get(username="bob")))
    assert key.get("sites/").status_code == 200

    response = alice_client.post(staff_url(bob, "remove"), follow=True)

    assert "bob removed from Northwind IT: their login is deactivated" in response.text
    assert 'data-member="bob"' not in response.text
    assert key.get("sites/").status_code == 401
    assert bob_client.get("/")["Location"].startswith("/accounts/login/")
    bob_user = User.objects.get(username="bob")
    assert not bob_user.is_active and not bob_user.has_usable_password()
    assert not Staff.objects.filter(user=bob_user).exists()
    event = StaffEvent.objects.filter(action=StaffEvent.Action.REMOVED).get()
    assert (event.email, event.old_role, event.actor, event.subject) == (
        "bob",
        "admin",
        alice,
        bob_user,
    )
    assert not Client().login(username="bob", password=PASSWORD)


def test_removing_an_invited_colleague_voids_their_link(alice_client):
    link = link_in(invite(alice_client, "bob2@northwind.example"))
    alice_client.post(staff_url(member("bob2@northwind.example").user, "remove"))
    assert "has been used already" in Client().get(urlsplit(link).path, follow=True).text


def test_removing_someone_already_removed_is_a_404(alice_client, bob):
    url = staff_url(bob, "remove")
    alice_client.post(url)
    assert alice_client.post(url).status_code == 404
    assert StaffEvent.objects.count() == 1


def test_a_removed_address_cannot_be_invited_again(alice_client, bob):
    bob.email = "bob@northwind.example"
    bob.save()
    alice_client.post(staff_url(bob, "remove"))
    refused = invite(alice_client, "bob@northwind.example")
    assert "already exists" in refused.text


# --- the audit trail in the admin ---------------------------------------------------------


def test_support_sees_the_teams_audit_trail_and_cannot_change_it(alice_client, bob, sam, root):
    invite(alice_client, "bob2@northwind.example")
    alice_client.post(staff_url(bob, "remove"))
    url = reverse("admin:sites_staffevent_changelist")
    for user in (sam, root):
        page = signed_in_client(user).get(url)
        assert page.status_code == 200
        assert "bob2@northwind.example" in page.text and "Removed" in page.text
    event = StaffEvent.objects.first()
    support = signed_in_client(sam)
    assert support.get(reverse("admin:sites_staffevent_change", args=[event.pk])).status_code == 200
    assert support.get(reverse("admin:sites_staffevent_add")).status_code == 403
    delete = reverse("admin:sites_staffevent_delete", args=[event.pk])
    assert signed_in_client(root).post(delete, {"post": "yes"}).status_code == 403
    assert StaffEvent.objects.count() == 2


# --- two admins at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a database that runs requests in parallel"
)
@pytest.mark.parametrize("move", ["demote each other", "both leave"])
def test_two_admins_acting_at_once_leave_one_admin(signed_in, alice, bob, monkeypatch, move):
    Staff.objects.filter(user=bob).update(role=Staff.Role.ADMIN)
    check = team._check_not_last_admin

    def slow_check(staff, doing):
        # Both requests are past their check before either writes, unless the MSP's lock
        # keeps the second waiting until the first has committed.
        check(staff, doing)
        time.sleep(0.5)

    monkeypatch.setattr(team, "_check_not_last_admin", slow_check)
    as_alice, as_bob = signed_in(alice), signed_in(bob)
    if move == "demote each other":
        bobs_role, alices_role = staff_url(bob, "role"), staff_url(alice, "role")
        calls = [
            lambda: as_alice.post(bobs_role, {"role": "read_only"}),
            lambda: as_bob.post(alices_role, {"role": "read_only"}),
        ]
    else:
        alice_leaves, bob_leaves = staff_url(alice, "remove"), staff_url(bob, "remove")
        calls = [lambda: as_alice.post(alice_leaves), lambda: as_bob.post(bob_leaves)]

    responses = in_parallel(calls)

    assert [r.status_code for r in responses] == [302, 302]
    admins = Staff.objects.filter(role=Staff.Role.ADMIN, user__is_active=True)
    assert admins.count() == 1
    assert StaffEvent.objects.count() == 1
