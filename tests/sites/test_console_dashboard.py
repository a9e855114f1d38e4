"""The Sites list as a dashboard: the filter by state, the health badge, and what it all
costs in queries.

Alice is an admin at Northwind IT, whose sites are Contoso, Fabrikam and the ones each
test adds; Charlie at Tailspin (site Woodgrove) must never see them.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from scim_app.models import ActivityHour, ActivityRollup
from scim_app.provisioning_log import activity, records
from sites import services, status
from sites.credentials import oauth, scim_tokens
from sites.models import ClientSecret, Site
from tests.sites.test_console_sites import row
from tests.support.log import logged
from tests.support.oauth import issue_client_secret
from tests.support.provisioned import bare_user, make_group


def listed(response) -> list[str]:
    """The names of the sites the page lists, in order."""
    return re.findall(r'<tr data-site="([^"]+)">', response.content.decode())


def shown(client, state: str, **params) -> list[str]:
    response = client.get("/", {"state": state, **params})
    assert response.status_code == 200
    return listed(response)


def configured(msp, name: str) -> Site:
    site = Site.objects.create(msp=msp, name=name)
    scim_tokens.issue_token(site)
    return site


def requests(site: Site, count: int, status: int = 200, ago: timedelta = timedelta(minutes=5)):
    for _ in range(count):
        logged(site, timezone.now() - ago, status)


# The filter by state


@pytest.fixture
def one_site_per_state(msp, contoso, fabrikam):
    """Contoso is provisioning and Fabrikam waits for Entra's first request; the others
    are what their names say."""
    scim_tokens.issue_token(contoso)
    logged(contoso)
    scim_tokens.issue_token(fabrikam)
    Site.objects.create(msp=msp, name="Not configured")
    failing = configured(msp, "Failing")
    requests(failing, 3, status=409)
    disabled = configured(msp, "Training off")
    logged(disabled)
    services.set_sat_enabled(disabled, False)
    revoked = Site.objects.create(msp=msp, name="Revoked")
    token, _ = scim_tokens.issue_token(revoked)
    scim_tokens.revoke_token(token)
    logged(revoked, status=401)
    expiring = Site.objects.create(msp=msp, name="Secret expiring")
    issue_client_secret(expiring)
    ClientSecret.objects.filter(site=expiring).update(
        expires_at=timezone.now() + timedelta(days=10)
    )


def test_each_state_lists_the_sites_in_it(alice_client, one_site_per_state, woodgrove):
    assert shown(alice_client, "provisioning") == ["Contoso", "Failing"]
    assert shown(alice_client, "waiting") == ["Fabrikam", "Secret expiring"]
    # The revoked token's refusals are errors too: Entra is still calling with it.
    assert shown(alice_client, "errors") == ["Failing", "Revoked"]
    assert shown(alice_client, "expiring") == ["Secret expiring"]
    assert shown(alice_client, "training_disabled") == ["Training off"]
    everything = listed(alice_client.get("/"))
    assert len(everything) == 7 and "Woodgrove" not in everything


def test_a_filtered_site_shows_why_it_is_listed(alice_client, one_site_per_state):
    response = alice_client.get("/")
    assert "Provisioning" in row(response, "Contoso")
    assert "Waiting for first request" in row(response, "Fabrikam")
    assert "3 errors in the last 24 hours" in row(response, "Failing")
    assert "error" not in row(response, "Contoso")
    soon = timezone.now() + timedelta(days=10)
    assert f"Client secret expires {soon:%Y-%m-%d}" in row(response, "Secret expiring")
    assert "Disabled" in row(response, "Training off")


def test_the_filter_combines_with_the_search(alice_client, one_site_per_state):
    assert shown(alice_client, "waiting", q="fab") == ["Fabrikam"]
    response = alice_client.get("/", {"state": "training_disabled", "q": "fab"})
    assert (
        "No site whose name contains “fab” is in the state “Training disabled”.".encode()
        in response.content
    )


def test_a_filter_without_results_says_so(alice_client, contoso):
    response = alice_client.get("/", {"state": "errors"})
    assert response.status_code == 200
    assert "No site is in the state “Errors in the last 24 hours”.".encode() in response.content


def test_the_chosen_state_stays_selected(alice_client, contoso):
    response = alice_client.get("/", {"state": "expiring"})
    assert b'<option value="expiring" selected>' in response.content


@pytest.mark.parametrize("state", ["nope", "Provisioning", "a\x00b", "x" * 300])
def test_a_bad_state_is_a_form_error_not_a_server_error(alice_client, contoso, state):
    response = alice_client.get("/", {"state": state})
    assert response.status_code == 400
    assert b"Select a valid choice." in response.content
    assert b'data-site="Contoso"' not in response.content


def test_paging_keeps_the_search_and_the_filter(alice_client, msp):
    Site.objects.bulk_create(
        Site(msp=msp, name=f"Branch {n:03}", sat_enabled=False) for n in range(60)
    )
    response = alice_client.get("/", {"q": "branch", "state": "training_disabled"})
    assert response.content.count(b"<tr data-site=") == 50
    assert b"?q=branch&amp;state=training_disabled&amp;page=2" in response.content
    second = alice_client.get("/", {"q": "branch", "state": "training_disabled", "page": 2})
    assert second.content.count(b"<tr data-site=") == 10
    assert b"?q=branch&amp;state=training_disabled&amp;page=1" in second.content


def test_what_people_did_in_the_console_is_not_a_request_from_entra(alice_client, contoso):
    """Hold mode turned on for a site that Entra never called: it still waits."""
    scim_tokens.issue_token(contoso)
    records.record_action(contoso, method="CONSOLE", summary="hold mode on")
    assert "Waiting for first request" in row(alice_client.get("/"), "Contoso")
    assert shown(alice_client, "waiting") == ["Contoso"]
    assert shown(alice_client, "provisioning") == []


# Errors in the last 24 hours: the rollup's hours, then the log's


def test_errors_come_from_the_rollup_and_the_hours_not_rolled_up_yet(alice_client, msp):
    this_hour = activity.this_hour()
    ActivityRollup.objects.create(rolled_up_to=this_hour)
    rolled = configured(msp, "Rolled up")
    ActivityHour.objects.create(site=rolled, hour=this_hour - timedelta(hours=20), errors=2)
    live = configured(msp, "Live")
    logged(live, this_hour + timedelta(seconds=1), 500)
    old = configured(msp, "Old")
    ActivityHour.objects.create(site=old, hour=this_hour - timedelta(hours=30), errors=9)
    logged(old, this_hour - timedelta(hours=30), 500)
    clean = configured(msp, "Clean")
    ActivityHour.objects.create(site=clean, hour=this_hour - timedelta(hours=2), requests=50)
    # Rolled up already (as zero errors): the log is not read again for that hour.
    logged(clean, this_hour - timedelta(hours=2), 500)

    assert shown(alice_client, "errors") == ["Live", "Rolled up"]
    response = alice_client.get("/")
    assert "2 errors in the last 24 hours" in row(response, "Rolled up")
    assert "1 error in the last 24 hours" in row(response, "Live")


def test_without_a_rollup_the_log_says_it_all(alice_client, contoso, fabrikam):
    scim_tokens.issue_token(contoso)
    logged(contoso, timezone.now() - timedelta(hours=5), 400)
    logged(fabrikam, timezone.now() - timedelta(hours=25), 400)
    assert shown(alice_client, "errors") == ["Contoso"]


# Expiring credentials


def test_expiring_means_a_usable_credential_ends_within_30_days(alice_client, msp, settings):
    settings.EXPIRY_ALERT_DAYS = 30
    now = timezone.now()
    rotated = configured(msp, "Rotated")
    scim_tokens.issue_token(rotated)  # the first token now lasts the grace period
    later = Site.objects.create(msp=msp, name="Later")
    issue_client_secret(later)
    ClientSecret.objects.filter(site=later).update(expires_at=now + timedelta(days=31))
    revoked = Site.objects.create(msp=msp, name="Revoked")
    issue_client_secret(revoked)
    ClientSecret.objects.filter(site=revoked).update(expires_at=now + timedelta(days=3))
    oauth.revoke_secret(ClientSecret.objects.get(site=revoked))
    expired = Site.objects.create(msp=msp, name="Expired")
    issue_client_secret(expired)
    ClientSecret.objects.filter(site=expired).update(expires_at=now - timedelta(days=1))

    assert shown(alice_client, "expiring") == ["Rotated"]
    response = alice_client.get("/")
    assert "Secret Token expires" in row(response, "Rotated")
    for name in ("Later", "Revoked", "Expired"):
        assert "expires" not in row(response, name)


# The health badge


FAILING = "Failing: {}% errors in the last hour"


@pytest.mark.parametrize(
    ("errors", "successes", "badge"),
    [
        (4, 6, FAILING.format(40)),  # at the threshold, out of the minimum 10 requests
        (3, 7, None),  # 30%
        (9, 0, None),  # 100%, but fewer than 10 requests: too few to judge
        (10, 0, FAILING.format(100)),
    ],
)
def test_the_health_badge_shows_from_40_percent_errors_in_10_requests(
    alice_client, contoso, errors, successes, badge
):
    scim_tokens.issue_token(contoso)
    requests(contoso, errors, status=500)
    requests(contoso, successes)
    text = row(alice_client.get("/"), "Contoso")
    if badge:
        assert badge in text
    else:
        assert "Failing" not in text


def test_the_health_badge_forgets_errors_older_than_an_hour(alice_client, contoso):
    scim_tokens.issue_token(contoso)
    requests(contoso, 10, status=500, ago=timedelta(minutes=61))
    requests(contoso, 10, ago=timedelta(minutes=30))
    text = row(alice_client.get("/"), "Contoso")
    assert "Failing" not in text
    assert "10 errors in the last 24 hours" in text


def test_the_health_badge_counts_only_entras_requests(alice_client, contoso):
    """What people did in the console is in the log, but does not dilute the errors."""
    scim_tokens.issue_token(contoso)
    requests(contoso, 6, status=401)
    requests(contoso, 4)
    for _ in range(20):
        records.record_action(contoso, method="CONSOLE", summary="restored a user")
    assert FAILING.format(60) in row(alice_client.get("/"), "Contoso")


def test_the_threshold_is_the_failure_alerts(alice_client, contoso, settings):
    settings.FAILURE_ALERT_PERCENT = 50
    settings.FAILURE_ALERT_MINIMUM = 4
    scim_tokens.issue_token(contoso)
    requests(contoso, 2, status=500)
    requests(contoso, 2)
    assert FAILING.format(50) in row(alice_client.get("/"), "Contoso")
    requests(contoso, 1)
    assert "Failing" not in row(alice_client.get("/"), "Contoso")


def test_a_site_with_training_disabled_is_not_failing_on_purpose(alice_client, contoso):
    scim_tokens.issue_token(contoso)
    services.set_sat_enabled(contoso, False)
    requests(contoso, 20, status=403)
    text = row(alice_client.get("/"), "Contoso")
    assert "Training disabled" in text and "Failing" not in text


# Queries: the same few for 3 sites as for 30, whatever the filter and the log's size


def add_sites(msp, first: int, last: int) -> None:
    """Sites in turn provisioning with errors, waiting with a secret that expires soon,
    and with training disabled: every filter lists some of them."""
    this_hour = activity.this_hour()
    for n in range(first, last):
        site = configured(msp, f"Customer {n:02}")
        bare_user(site, f"user{n}@example.com")
        bare_user(site, f"inactive{n}@example.com", active=False)
        make_group(site, f"Group {n}")
        if n % 3 == 0:
            requests(site, 12, status=500)
            requests(site, 3)
            ActivityHour.objects.create(site=site, hour=this_hour - timedelta(hours=3), errors=4)
        elif n % 3 == 1:
            issue_client_secret(site)
            ClientSecret.objects.filter(site=site).update(
                expires_at=timezone.now() + timedelta(days=5)
            )
        else:
            logged(site)
            services.set_sat_enabled(site, False)


@pytest.mark.parametrize("state", ["", *status.STATES])
def test_the_dashboard_costs_8_queries_for_3_or_30_sites(
    alice_client, msp, django_assert_num_queries, state
):
    ActivityRollup.objects.create(rolled_up_to=activity.this_hour())
    # session, user, staff, the page of sites (with every count, the health and the
    # errors as columns), their count, one query per kind of Entra credential
    add_sites(msp, 0, 3)
    with django_assert_num_queries(8):
        assert listed(alice_client.get("/", {"state": state}))
    add_sites(msp, 3, 30)
    with django_assert_num_queries(8):
        assert listed(alice_client.get("/", {"state": state}))
