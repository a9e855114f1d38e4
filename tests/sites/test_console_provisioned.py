"""A site's pages in the console: what Entra provisioned (users, groups, their history),
what it did lately (activity), and the site itself (rename, hold mode, delete).

Alice (admin at Northwind IT) looks after Contoso; Bob (read-only there) may look but not
touch; Charlie (Tailspin) gets 404 for all of it.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from sat_portal.queries import CappedPaginator
from scim_app.models import ProvisioningLogEntry, ScimUser
from scim_app.provisioning_log import activity
from sites.models import Site
from tests.conftest import ScimClient
from tests.scim_app.conftest import create_group, create_user, patch_body
from tests.support.provisioned import make_group, make_users

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def page_of(site, path: str = "") -> str:
    return f"/sites/{site.public_id}/{path}"


@pytest.fixture
def people(contoso_scim):
    """Dana (Finance, managed by Bea), Sam (inactive), Bea; Dana in Finance Team."""
    bea = create_user(contoso_scim, "bea.boss@contoso.example", displayName="Bea Boss")
    dana = create_user(
        contoso_scim,
        "dana.fisher@contoso.example",
        displayName="Dana Fisher",
        title="Controller",
        preferredLanguage="de-DE",
        phoneNumbers=[{"type": "mobile", "value": "+49 170 1"}],
        **{ENTERPRISE: {"department": "Sales", "manager": {"value": bea["id"]}}},
    )
    sam = create_user(contoso_scim, "sam.lee@contoso.example", active=False)
    group = create_group(contoso_scim, "Finance Team")
    contoso_scim.patch(
        f"Groups/{group['id']}",
        patch_body({"op": "Add", "path": "members", "value": [{"value": dana["id"]}]}),
    )
    contoso_scim.patch(
        f"Users/{dana['id']}",
        patch_body({"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Finance"}),
    )
    return {"bea": bea, "dana": dana, "sam": sam, "group": group}


def names_on(html: str, *names: str) -> list[str]:
    return [name for name in names if name in html]


def test_the_users_page_lists_the_sites_users_only(alice_client, contoso, people, woodgrove):
    make_users(woodgrove, ["wendy@woodgrove.example"])
    html = alice_client.get(page_of(contoso, "users/")).content.decode()
    assert names_on(html, "bea.boss", "dana.fisher", "sam.lee", "wendy") == [
        "bea.boss",
        "dana.fisher",
        "sam.lee",
    ]
    assert "3 users" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "fisher"}, ["dana.fisher"]),
        ({"q": "CONTOSO.example"}, ["bea.boss", "dana.fisher", "sam.lee"]),
        ({"state": "inactive"}, ["sam.lee"]),
        ({"state": "active", "q": "b"}, ["bea.boss"]),
    ],
)
def test_users_are_searched_and_filtered(alice_client, contoso, people, params, expected):
    html = alice_client.get(page_of(contoso, "users/"), params).content.decode()
    assert names_on(html, "bea.boss", "dana.fisher", "sam.lee") == expected


def test_users_sort_by_last_change(alice_client, contoso, people):
    html = alice_client.get(page_of(contoso, "users/"), {"sort": "changed"}).content.decode()
    assert html.index("dana.fisher") < html.index("sam.lee") < html.index("bea.boss")


def test_a_bad_search_is_a_form_error(alice_client, contoso):
    response = alice_client.get(page_of(contoso, "users/"), {"state": "gone", "q": "a\x00"})
    assert response.status_code == 400 and b'role="alert"' in response.content


def test_lists_are_paged_and_never_counted_past_the_cap(alice_client, contoso, monkeypatch):
    make_users(contoso, [f"user{i:03}@contoso.example" for i in range(60)])
    first = alice_client.get(page_of(contoso, "users/"), {"q": "user"}).content.decode()
    assert "user049" in first and "user050" not in first and "60 users" in first
    second = alice_client.get(page_of(contoso, "users/"), {"q": "user", "page": 2}).content
    assert b"user059" in second and b"q=user&amp;page=1" in second
    monkeypatch.setattr(CappedPaginator, "cap", 55)
    capped = alice_client.get(page_of(contoso, "users/")).content.decode()
    assert "10,000+ users" in capped


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_users_page_and_overview_cost_the_same_at_3_and_3000_users(
    alice_client, contoso, people
):
    scim = ScimClient(None)
    urls = [page_of(contoso, "users/"), page_of(contoso, "users/?sort=changed&q=a"),
            page_of(contoso), page_of(contoso, "?window=30d"), page_of(contoso, "groups/"),
            page_of(contoso, f"users/{people['dana']['id']}/")]  # fmt: skip
    for url in urls:
        alice_client.get(url)  # warm caches that are per process
    small = [count(alice_client, url) for url in urls]
    users = make_users(contoso, [f"bulk{i}@contoso.example" for i in range(3000)])
    make_group(contoso, "Everyone", members=users)
    ProvisioningLogEntry.objects.bulk_create(
        ProvisioningLogEntry(site=contoso, method="GET", path="/", status=200 + (i % 2) * 209,
                             duration_ms=1, summary="x") for i in range(3000)
    )  # fmt: skip
    scim.get("Users")
    assert [count(alice_client, url) for url in urls] == small


def test_a_users_page_shows_every_attribute_her_manager_groups_and_history(
    alice_client, contoso, people
):
    html = alice_client.get(page_of(contoso, f"users/{people['dana']['id']}/")).content.decode()
    for text in ("Dana Fisher", "Controller", "Finance", "de-DE", "+49 170 1", "Finance Team"):
        assert escape(text) in html
    assert f'href="/sites/{contoso.public_id}/users/{people["bea"]["id"]}/">Bea Boss</a>' in html
    assert escape("department: Sales → Finance") in html
    assert "created user dana.fisher@contoso.example" in html


def test_a_group_page_lists_its_members_searchably(alice_client, contoso, people):
    url = page_of(contoso, f"groups/{people['group']['id']}/")
    html = alice_client.get(url).content.decode()
    assert "dana.fisher" in html and "1 members" in html
    assert "dana.fisher" not in alice_client.get(url, {"q": "zzz"}).content.decode()
    groups = alice_client.get(page_of(contoso, "groups/")).content.decode()
    assert "Finance Team" in groups


def test_charlie_sees_none_of_it_and_bob_changes_nothing(
    client, charlie, bob_client, contoso, people
):
    client.force_login(charlie)
    dana = people["dana"]["id"]
    for path in ("", "users/", f"users/{dana}/", "groups/", f"groups/{people['group']['id']}/"):
        assert client.get(page_of(contoso, path)).status_code == 404
    assert bob_client.get(page_of(contoso, f"users/{dana}/")).status_code == 200
    for path in ("rename/", "delete/", "hold/", "held/", "alert/acknowledge/"):
        assert (
            bob_client.post(page_of(contoso, path), {"name": "X", "typed": "Contoso"}).status_code
            == 403
        )
    assert Site.objects.filter(pk=contoso.pk, name="Contoso").exists()


# --- restore and purge ---------------------------------------------------------------


def test_alice_restores_a_deleted_user_with_her_groups(alice_client, contoso, contoso_scim, people):
    dana = people["dana"]["id"]
    contoso_scim.delete(f"Users/{dana}")
    deleted = alice_client.get(page_of(contoso, "users/"), {"state": "deleted"}).content.decode()
    assert "dana.fisher" in deleted and "bea.boss" not in deleted
    page = alice_client.get(page_of(contoso, f"users/{dana}/")).content.decode()
    assert "Deleted by Entra on" in page and "Restore" in page

    alice_client.post(page_of(contoso, f"users/{dana}/restore/"))

    assert contoso_scim.get(f"Users/{dana}").status_code == 200
    group = contoso_scim.get(f"Groups/{people['group']['id']}").json()
    assert [m["value"] for m in group["members"]] == [dana]
    entry = ProvisioningLogEntry.objects.get(method="CONSOLE")
    assert entry.actor.username == "alice" and entry.resource_id == dana


def test_purging_needs_the_name_typed(alice_client, contoso, contoso_scim, people):
    dana = people["dana"]["id"]
    contoso_scim.delete(f"Users/{dana}")
    wrong = alice_client.post(
        page_of(contoso, f"users/{dana}/purge/"), {"typed": "dana"}, follow=True
    )
    assert b"Nothing purged" in wrong.content and ScimUser.objects.filter(pk=dana).exists()
    alice_client.post(
        page_of(contoso, f"users/{dana}/purge/"), {"typed": "Dana.Fisher@contoso.example"}
    )
    assert not ScimUser.objects.filter(pk=dana).exists()


def test_a_live_user_can_be_neither_restored_nor_purged(alice_client, contoso, people):
    dana = people["dana"]["id"]
    assert alice_client.post(page_of(contoso, f"users/{dana}/restore/")).status_code == 404
    response = alice_client.post(
        page_of(contoso, f"users/{dana}/purge/"), {"typed": "dana.fisher@contoso.example"}
    )
    assert response.status_code == 404 and ScimUser.objects.filter(pk=dana).exists()


# --- activity ------------------------------------------------------------------------


def test_the_overview_shows_requests_errors_by_kind_and_the_latest(
    alice_client, contoso, contoso_scim, people
):
    contoso_scim.post("Users", {"userName": "bea.boss@contoso.example"})  # 409 uniqueness
    contoso_scim.get("Users/not-an-id")  # 404
    html = alice_client.get(page_of(contoso)).content.decode()
    total = ProvisioningLogEntry.objects.filter(site=contoso).count()
    assert f"{total} requests in the last 24h, 2 with an error." in html
    kinds = ["<code>409 uniqueness</code> ×1", "<code>404</code> ×1"]  # noqa: RUF001
    assert all(kind in html for kind in kinds)
    latest = html[html.index("Latest requests") :]
    assert latest.index("→ 404") < latest.index("created user bea.boss")
    assert '<svg class="chart"' in html and 'role="img"' in html


def test_rolled_up_hours_and_live_ones_add_up_the_same(contoso, contoso_scim, people):
    live = activity.activity(contoso, "7d")
    old = timezone.now() - timedelta(days=2)
    ProvisioningLogEntry.objects.filter(site=contoso).update(created=old)
    before = activity.activity(contoso, "7d")
    while activity.rollup_job():
        pass
    after = activity.activity(contoso, "7d")
    assert before.requests == after.requests == live.requests
    assert before.errors == after.errors
    assert activity.ActivityHour.objects.filter(site=contoso).exists()


# --- the site itself --------------------------------------------------------------------


def test_alice_renames_and_deletes_a_site_only_with_its_name_typed(alice_client, contoso, people):
    alice_client.post(page_of(contoso, "rename/"), {"name": "Contoso Ltd"})
    contoso.refresh_from_db()
    assert contoso.name == "Contoso Ltd"

    kept = alice_client.post(page_of(contoso, "delete/"), {"typed": "Contoso"}, follow=True)
    assert b"Nothing deleted" in kept.content and Site.objects.filter(pk=contoso.pk).exists()

    gone = alice_client.post(page_of(contoso, "delete/"), {"typed": " contoso ltd "}, follow=True)
    assert gone.redirect_chain[-1][0] == "/"
    assert not Site.objects.filter(pk=contoso.pk).exists()
    assert not ScimUser.objects.exists() and not ProvisioningLogEntry.objects.exists()


def test_hold_mode_from_the_overview(alice_client, contoso, contoso_scim, people):
    alice_client.post(page_of(contoso, "hold/"), {"hold": "on"})
    contoso.refresh_from_db()
    assert contoso.hold_deletes
    contoso_scim.delete(f"Users/{people['sam']['id']}")
    html = alice_client.get(page_of(contoso)).content.decode()
    assert "<strong>1</strong> delete held" in html

    asked = alice_client.post(page_of(contoso, "held/"), {"do": "apply"})
    assert b"Are you sure?" in asked.content
    alice_client.post(page_of(contoso, "held/"), {"do": "apply", "confirmed": "yes"})
    assert contoso_scim.get(f"Users/{people['sam']['id']}").status_code == 404

    alice_client.post(page_of(contoso, "hold/"), {"hold": "off"})
    contoso.refresh_from_db()
    assert not contoso.hold_deletes


def test_the_alert_banner_until_acknowledged(alice_client, contoso, people):
    contoso.deprovisioning_alert_at = timezone.now()
    contoso.save()
    assert b"Mass deprovisioning noticed" in alice_client.get(page_of(contoso)).content
    alice_client.post(page_of(contoso, "alert/acknowledge/"))
    assert b"Mass deprovisioning noticed" not in alice_client.get(page_of(contoso)).content


def test_the_sites_list_links_each_site(alice_client, contoso):
    html = alice_client.get("/").content.decode()
    assert f'<a href="/sites/{contoso.public_id}/">Contoso</a>' in html
