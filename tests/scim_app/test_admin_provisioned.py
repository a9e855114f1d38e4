"""The admin's provisioned users, groups and memberships: support finds Dana across all
MSPs and sites, sees her site, groups and history, and can change nothing Entra owns.

Root is a superuser, Sam is support staff (view-only), Bob is console staff and no
admin user at all. Dana is provisioned into Contoso (Northwind IT); Woodgrove
(Tailspin MSP) has its own users.
"""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from scim_app.models import Membership, ScimGroup, ScimUser
from tests.support.admin import count_queries, make_log_entry, signed_in_client
from tests.support.provisioned import make_group, make_user

from .conftest import ENTERPRISE_URN, create_user, patch_body

DANA = "dana.fisher@contoso.example"
USERS = reverse("admin:scim_app_scimuser_changelist")
GROUPS = reverse("admin:scim_app_scimgroup_changelist")
MEMBERSHIPS = reverse("admin:scim_app_membership_changelist")
USER_LINK = re.compile(r'href="/admin/scim_app/scimuser/[0-9a-f-]{36}/change/"')


def user_page(user: ScimUser) -> str:
    return reverse("admin:scim_app_scimuser_change", args=[user.pk])


def group_page(group: ScimGroup) -> str:
    return reverse("admin:scim_app_scimgroup_change", args=[group.pk])


@pytest.fixture
def dana(contoso):
    return make_user(
        contoso,
        DANA,
        displayName="Dana Fisher",
        name={"givenName": "Dana", "familyName": "Fisher"},
        externalId="9f1c2b7e-0d4a-4c55-8a61-2e7b3f9d1c04",
    )


@pytest.fixture
def wendy(woodgrove):
    return make_user(woodgrove, "wendy.li@woodgrove.example")


@pytest.fixture(params=["root", "sam"])
def staff(request):
    """Every page works the same for the superuser and for support staff."""
    return signed_in_client(request.getfixturevalue(request.param))


@pytest.mark.parametrize(
    "term",
    [
        DANA,
        "dana.fisher@contoso",  # part of the userName / work email
        "Fisher",
        "Dana Fisher",
        "9f1c2b7e-0d4a-4c55-8a61-2e7b3f9d1c04",  # externalId
    ],
)
def test_support_finds_dana_across_all_sites(staff, dana, wendy, term):
    response = staff.get(USERS, {"q": term})
    assert response.status_code == 200
    assert DANA in response.text
    assert "wendy.li" not in response.text


def test_support_finds_a_user_by_her_exact_scim_id(staff, dana, wendy, contoso):
    make_user(contoso, "noise@contoso.example")
    response = staff.get(USERS, {"q": str(dana.pk)})
    assert DANA in response.text
    assert "noise@" not in response.text
    assert "wendy.li" not in response.text


def test_the_user_list_shows_site_msp_status_and_group_count(staff, dana, wendy, contoso):
    make_group(contoso, "Finance Team", [dana])
    make_group(contoso, "All Staff", [dana])
    response = staff.get(USERS)
    row = next(line for line in response.text.splitlines() if DANA in line)
    assert "Contoso" in row
    assert "Northwind IT" in row
    assert '<td class="field-group_count">2</td>' in row
    assert "Woodgrove" in response.text


def test_the_user_list_filters_by_site_msp_and_active(staff, dana, wendy, contoso, msp):
    make_user(contoso, "gone@contoso.example", active=False)
    by_site = staff.get(USERS, {"site": wendy.site_id}).text
    assert "wendy.li" in by_site and DANA not in by_site
    by_msp = staff.get(USERS, {"msp": msp.pk}).text
    assert DANA in by_msp and "wendy.li" not in by_msp
    inactive = staff.get(USERS, {"active__exact": "0"}).text
    assert "gone@contoso.example" in inactive and DANA not in inactive


def test_the_site_filter_renders_a_search_box_not_every_site(staff, dana, msp):
    from sites.models import Site

    Site.objects.bulk_create(Site(msp=msp, name=f"Customer {n}") for n in range(50))
    response = staff.get(USERS)
    assert 'class="admin-autocomplete autocomplete-filter"' in response.text
    assert "Customer 17" not in response.text


def test_the_user_page_shows_every_attribute_groups_and_recent_requests(
    staff, contoso, contoso_scim
):
    created = create_user(contoso_scim, DANA)
    dana = ScimUser.objects.get(pk=created["id"])
    finance = make_group(contoso, "Finance Team", [dana])

    response = staff.get(user_page(dana))

    assert response.status_code == 200
    page = response.text
    for value in (DANA, "Dana", "Fisher", "Dana Fisher", f"ext-{DANA}", "Contoso", "Northwind IT"):
        assert escape(value) in page
    assert escape('"type": "work"') in page  # the emails exactly as Entra sent them
    assert group_page(finance) in page
    assert escape(f"created user {DANA}") in page
    assert reverse("admin:scim_app_provisioninglogentry_changelist") in page


def test_the_user_page_shows_work_attributes_a_linked_manager_phones_and_addresses(
    staff, contoso, contoso_scim
):
    boss = create_user(contoso_scim, "bea.boss@contoso.example", displayName="Bea Boss")
    created = create_user(
        contoso_scim,
        DANA,
        title="Finance Director",
        preferredLanguage="de-DE",
        phoneNumbers=[{"type": "mobile", "value": "+49 170 7654321", "primary": True}],
        addresses=[{"type": "work", "locality": "Berlin", "country": "DE"}],
        **{ENTERPRISE_URN: {"department": "Finance", "employeeNumber": "000123"}},
    )
    contoso_scim.patch(
        f"Users/{created['id']}",
        patch_body({"op": "Add", "path": f"{ENTERPRISE_URN}:manager", "value": boss["id"]}),
    )

    page = staff.get(user_page(ScimUser.objects.get(pk=created["id"]))).text

    for value in (
        "Finance Director",
        "Finance",
        "000123",
        "de-DE",
        "+49 170 7654321",
        "Berlin, DE",
    ):
        assert escape(value) in page
    assert "mobile (primary): +49 170 7654321" in page
    assert f'<a href="{user_page(ScimUser.objects.get(pk=boss["id"]))}">Bea Boss</a>' in page


def test_support_filters_and_searches_users_by_department(staff, contoso, woodgrove):
    make_user(contoso, DANA, **{ENTERPRISE_URN: {"department": "Finance"}})
    make_user(contoso, "sam.lee@contoso.example", **{ENTERPRISE_URN: {"department": "Sales"}})
    make_user(
        woodgrove, "wendy.li@woodgrove.example", **{ENTERPRISE_URN: {"department": "finance"}}
    )

    listed = staff.get(USERS, {"department": "FINANCE"}).text
    assert DANA in listed and "wendy.li@woodgrove.example" in listed
    assert "sam.lee@contoso.example" not in listed
    assert 'name="department" value="FINANCE"' in listed
    searched = staff.get(USERS, {"q": "sales"}).text
    assert "sam.lee@contoso.example" in searched and DANA not in searched
    both = staff.get(USERS, {"department": "finance", "site": contoso.pk}).text
    assert DANA in both and "wendy.li@woodgrove.example" not in both


def test_provisioned_values_are_html_escaped(staff, contoso):
    evil = make_user(contoso, "evil@contoso.example", displayName="<script>alert(1)</script>")
    make_group(contoso, "<img src=x onerror=alert(2)>", [evil])
    for url in (USERS, user_page(evil), GROUPS, group_page(ScimGroup.objects.get())):
        page = staff.get(url).text
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff.get(user_page(evil)).text


@pytest.mark.parametrize("who", ["root", "sam"])
def test_nobody_may_add_or_edit_what_entra_provisions(request, who, dana, contoso):
    client = signed_in_client(request.getfixturevalue(who))
    group = make_group(contoso, "Finance Team", [dana])
    membership = Membership.objects.get()
    for model, obj in (("scimuser", dana), ("scimgroup", group), ("membership", membership)):
        assert client.get(reverse(f"admin:scim_app_{model}_add")).status_code == 403
        page = client.get(reverse(f"admin:scim_app_{model}_change", args=[obj.pk])).text
        assert 'name="_save"' not in page
        for field in ("user_name", "display_name", "active", "site", "members", "group", "user"):
            assert f'name="{field}"' not in page
    response = client.post(user_page(dana), {"user_name": "mallory@contoso.example"})
    assert response.status_code == 403
    dana.refresh_from_db()
    assert dana.user_name == DANA


def test_support_staff_may_not_delete(sam, dana):
    client = signed_in_client(sam)
    delete = reverse("admin:scim_app_scimuser_delete", args=[dana.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ScimUser.objects.filter(pk=dana.pk).exists()


def test_a_superuser_may_delete_after_a_warning_that_entra_re_creates_it(root, dana, contoso):
    make_group(contoso, "Finance Team", [dana])
    client = signed_in_client(root)
    delete = reverse("admin:scim_app_scimuser_delete", args=[dana.pk])

    page = client.get(delete).text
    assert "Microsoft Entra ID owns this data" in page
    assert "the next provisioning cycle re-creates it" in page
    assert "Memberships: 1" in page

    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not ScimUser.objects.exists()
    assert not Membership.objects.exists()


def test_deleting_a_big_group_lists_counts_not_every_membership(root, contoso):
    members = [make_user(contoso, f"user{n:03}@contoso.example") for n in range(120)]
    group = make_group(contoso, "Everyone", members)
    client = signed_in_client(root)
    response = client.post(
        GROUPS, {"action": "delete_selected", "_selected_action": [str(group.pk)]}
    )
    assert response.status_code == 200
    assert "Microsoft Entra ID owns this data" in response.text
    assert "Memberships: 120" in response.text
    assert "user042@contoso.example" not in response.text


def test_a_group_page_lists_members_fifty_at_a_time_with_a_search(staff, contoso):
    members = [make_user(contoso, f"user{n:03}@contoso.example") for n in range(120)]
    group = make_group(contoso, "Everyone", members)

    first = staff.get(group_page(group)).text
    assert "Members (120)" in first
    assert len(USER_LINK.findall(first)) == 50
    assert "page 1 of 3" in first
    assert 'name="members"' not in first  # no form widget loading every member

    last = staff.get(group_page(group), {"members_page": 3}).text
    assert len(USER_LINK.findall(last)) == 20
    assert "user119@contoso.example" in last

    found = staff.get(group_page(group), {"members_q": "user07"}).text
    assert "Members (10 matching" in found
    assert "user075@contoso.example" in found
    assert "user042@contoso.example" not in found


def test_the_group_list_shows_site_and_member_count(staff, contoso, dana):
    make_group(contoso, "Finance Team", [dana])
    row = next(line for line in staff.get(GROUPS).text.splitlines() if "Finance Team" in line)
    assert "Contoso" in row
    assert '<td class="field-member_count">1</td>' in row


def test_the_membership_list_shows_who_is_in_which_group(staff, contoso, dana):
    make_group(contoso, "Finance Team", [dana])
    page = staff.get(MEMBERSHIPS, {"q": "dana"}).text
    assert DANA in page and "Finance Team" in page


def test_console_staff_who_are_not_admin_staff_are_refused(bob, dana):
    client = signed_in_client(bob)
    for url in (USERS, user_page(dana), GROUPS, MEMBERSHIPS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def populate(contoso, woodgrove, n: int) -> tuple[ScimUser, ScimGroup]:
    users = [make_user(contoso, f"u{n}-{i}@contoso.example") for i in range(n)]
    users += [make_user(woodgrove, f"u{n}-{i}@woodgrove.example") for i in range(n)]
    group = make_group(contoso, f"Group {n}", users[:n])
    for i in range(n):
        make_group(woodgrove, f"Other {n}-{i}", users[n:])
        make_log_entry(contoso, resource_type="User", resource_id=str(users[0].pk))
    return users[0], group


@pytest.mark.parametrize("who", ["root", "sam"])
def test_every_page_needs_the_same_number_of_queries_for_3_or_30_rows(
    request, who, contoso, woodgrove, django_assert_max_num_queries
):
    client = signed_in_client(request.getfixturevalue(who))
    small_user, small_group = populate(contoso, woodgrove, 3)
    pages = lambda user, group: [  # noqa: E731
        USERS,
        f"{USERS}?q=u3",
        f"{USERS}?site={contoso.pk}",
        f"{USERS}?department=Finance",
        user_page(user),
        GROUPS,
        group_page(group),
        MEMBERSHIPS,
        reverse("admin:scim_app_membership_change", args=[group.memberships.first().pk]),
    ]
    for url in pages(small_user, small_group):
        client.get(url)  # warm the content-type cache, which is per process
    small = [count_queries(client, url) for url in pages(small_user, small_group)]
    big_user, big_group = populate(contoso, woodgrove, 30)
    big = [count_queries(client, url) for url in pages(big_user, big_group)]
    assert big == small
    for url in pages(big_user, big_group):
        with django_assert_max_num_queries(15):
            client.get(url)
