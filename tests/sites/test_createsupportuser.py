"""`manage.py createsupportuser EMAIL`: a view-only admin login for support staff."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse


def create(email: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createsupportuser", email, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_a_staff_login_in_the_support_group_and_prints_its_password_once(db):
    out, err = create("sam@sat.example")

    password = out.strip()
    assert len(password) >= 20
    assert password not in err
    user = get_user_model().objects.get(username="sam@sat.example")
    assert user.email == "sam@sat.example"
    assert user.is_staff and not user.is_superuser
    assert [group.name for group in user.groups.all()] == ["Support"]
    assert user.check_password(password)


def test_the_new_login_can_view_but_not_change_provisioned_users(db):
    password = create("sam@sat.example")[0].strip()
    client = Client()
    assert client.login(username="sam@sat.example", password=password)
    assert client.get(reverse("admin:scim_app_scimuser_changelist")).status_code == 200
    assert client.get(reverse("admin:scim_app_provisioninglogentry_changelist")).status_code == 200
    assert client.get(reverse("admin:sites_site_add")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_the_support_group_may_only_view(db):
    from django.contrib.auth.models import Group

    codenames = set(
        Group.objects.get(name="Support").permissions.values_list("codename", flat=True)
    )
    assert codenames == {
        "view_scimuser",
        "view_scimgroup",
        "view_membership",
        "view_provisioninglogentry",
        "view_msp",
        "view_site",
        "view_staff",
        "view_scimtoken",
        "view_credentialevent",
        "view_apikey",
        "view_oauthclient",
        "view_clientsecret",
        "view_accesstoken",
        "view_federationtrust",
        "view_staffevent",
        "view_sitealert",
    }


@pytest.mark.parametrize("email", ["not-an-email", "SAM@sat.example"])
def test_it_refuses_bad_or_taken_addresses(db, email):
    create("sam@sat.example")
    with pytest.raises(CommandError):
        create(email)
    assert get_user_model().objects.count() == 1
