"""The provisioning log in the admin: support reads what Entra sent and what we answered.

Root is a superuser, Sam is support staff (view-only), Bob is no admin user. The log
rows come from real SCIM requests by Contoso's Entra (contoso_scim) where it matters.
"""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from sat_portal.admin import CappedCountPaginator
from scim_app.models import ProvisioningLogEntry
from tests.support.admin import count_queries, make_log_entry, signed_in_client

from .conftest import entra_user

DANA = "dana.fisher@contoso.example"
LOG = reverse("admin:scim_app_provisioninglogentry_changelist")


def entry_page(entry: ProvisioningLogEntry) -> str:
    return reverse("admin:scim_app_provisioninglogentry_change", args=[entry.pk])


@pytest.fixture(params=["root", "sam"])
def staff(request):
    return signed_in_client(request.getfixturevalue(request.param))


@pytest.fixture
def requests_from_entra(contoso_scim):
    """Dana created, created again (409), and looked up."""
    dana = contoso_scim.post("Users", entra_user(DANA)).json()
    contoso_scim.post("Users", entra_user(DANA))
    contoso_scim.get("Users", filter=f'userName eq "{DANA}"')
    return dana


def test_the_log_lists_requests_newest_first(staff, requests_from_entra):
    page = staff.get(LOG).text
    assert page.index("filter userName eq") < page.index("POST /Users → 409 uniqueness")
    assert page.index("POST /Users → 409 uniqueness") < page.index(f"created user {DANA}")
    assert "Contoso" in page


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"status_class": "4xx"}, "409 uniqueness", f"created user {DANA}"),
        ({"status_class": "2xx"}, f"created user {DANA}", "409 uniqueness"),
        ({"method": "GET"}, "filter userName", "409 uniqueness"),
        ({"q": "filter userName"}, "filter userName", f"created user {DANA}"),
        ({"q": "409"}, "409 uniqueness", "filter userName"),
    ],
)
def test_the_log_filters_and_searches(staff, requests_from_entra, params, shown, hidden):
    page = staff.get(LOG, params).text
    assert escape(shown) in page
    assert escape(hidden) not in page


def test_the_log_filters_by_site_and_resource_type(staff, contoso, woodgrove):
    make_log_entry(contoso, summary="contoso request", resource_type="User")
    make_log_entry(woodgrove, summary="woodgrove request", resource_type="Group")
    by_site = staff.get(LOG, {"site": woodgrove.pk}).text
    assert "woodgrove request" in by_site and "contoso request" not in by_site
    by_type = staff.get(LOG, {"resource_type__exact": "User"}).text
    assert "contoso request" in by_type and "woodgrove request" not in by_type


def test_searching_a_scim_id_finds_every_request_about_that_user(staff, requests_from_entra):
    make_log_entry(None, summary="unrelated")
    page = staff.get(LOG, {"q": requests_from_entra["id"]}).text
    assert escape(f"created user {DANA}") in page
    assert "unrelated" not in page


def test_an_entry_shows_the_request_pretty_printed_and_what_it_changed(staff, requests_from_entra):
    entry = ProvisioningLogEntry.objects.get(status=201)
    page = staff.get(entry_page(entry)).text
    assert escape(f'  "userName": "{DANA}"') in page  # indented: pretty-printed
    assert escape(f"userName: — → {DANA}") in page  # the history
    assert "Not kept for successes" in page
    assert reverse("admin:scim_app_scimuser_change", args=[requests_from_entra["id"]]) in page
    assert f"…{entry.site.scim_tokens.get().hint}" in page
    assert "127.0.0.1" in page
    assert 'name="_save"' not in page


def test_an_error_entry_shows_its_scim_type_and_detail(staff, requests_from_entra):
    entry = ProvisioningLogEntry.objects.get(status=409)
    page = staff.get(entry_page(entry)).text
    assert "uniqueness" in page
    assert escape(entry.error_detail) in page
    assert escape('"scimType": "uniqueness"') in page  # an error's answer is kept


def test_logged_values_are_html_escaped(staff, contoso):
    entry = make_log_entry(
        contoso,
        summary="created user <script>alert(1)</script>",
        request_body='{"displayName": "<script>alert(2)</script>"}',
    )
    for url in (LOG, entry_page(entry)):
        page = staff.get(url).text
        assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff.get(LOG).text


def test_the_log_is_read_only_and_only_superusers_may_delete(root, sam, contoso):
    entry = make_log_entry(contoso)
    delete = reverse("admin:scim_app_provisioninglogentry_delete", args=[entry.pk])
    for user in (root, sam):
        client = signed_in_client(user)
        assert client.get(reverse("admin:scim_app_provisioninglogentry_add")).status_code == 403
        assert client.post(entry_page(entry), {"status": "200"}).status_code == 403
    assert signed_in_client(sam).post(delete, {"post": "yes"}).status_code == 403
    assert signed_in_client(root).post(delete, {"post": "yes"}).status_code == 302
    assert not ProvisioningLogEntry.objects.exists()


def test_non_staff_are_refused(bob, contoso):
    entry = make_log_entry(contoso)
    client = signed_in_client(bob)
    for url in (LOG, entry_page(entry)):
        assert client.get(url)["Location"].startswith(reverse("admin:login"))


def test_the_list_counts_no_further_than_the_cap(staff, contoso, monkeypatch):
    # On a million rows a full COUNT(*) per page load is the slow part of an admin list.
    monkeypatch.setattr(CappedCountPaginator, "cap", 20)
    for _ in range(30):
        make_log_entry(contoso)
    page = staff.get(LOG).text
    assert "20 or more provisioning log" in page
    assert "30 provisioning log" not in page
    fewer = staff.get(LOG, {"status_class": "2xx", "q": "nothing like this"}).text
    assert "0 provisioning log" in fewer and "or more" not in fewer
    assert "Show counts" not in page  # facets would COUNT every filter choice


def test_log_pages_need_the_same_number_of_queries_for_3_or_30_rows(staff, contoso, woodgrove):
    def populate(n):
        for i in range(n):
            make_log_entry(contoso if i % 2 else woodgrove, request_body='{"a": 1}')
        return ProvisioningLogEntry.objects.first()

    def pages(entry):
        return [
            LOG,
            f"{LOG}?site={contoso.pk}",
            f"{LOG}?status_class=2xx&q=Users",
            entry_page(entry),
        ]

    for url in pages(populate(3)):
        staff.get(url)  # warm the content-type cache, which is per process
    small = [count_queries(staff, url) for url in pages(ProvisioningLogEntry.objects.first())]
    big = [count_queries(staff, url) for url in pages(populate(30))]
    assert big == small
    assert max(big) <= 10


def test_the_log_list_reads_status_and_summary_first_with_human_titles(staff, requests_from_entra):
    page = staff.get(LOG).text
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    assert headers[:4] == ["created", "site", "status", "summary"]
    assert "SCIM error type" in page and "scimType" not in page.split("<tbody")[0]


def test_support_staff_are_not_sent_to_the_console(sam, root, alice):
    from django.test import Client

    support = Client()
    support.force_login(sam)
    assert "View site" not in support.get(reverse("admin:index")).text
    forbidden = support.get("/")
    assert forbidden.status_code == 403 and "Go to SAT Portal support" in forbidden.text
    alice.is_staff = True
    alice.save()
    both = Client()
    both.force_login(alice)  # an MSP admin who is also admin staff: the console is hers
    assert "View site" in both.get(reverse("admin:index")).text
