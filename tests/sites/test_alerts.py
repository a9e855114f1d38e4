"""E-mail alerts, sent through a real SMTP server that the tests start on loopback.

Alice is an admin of Northwind IT with an email address; Bob is read-only there, Dave an
admin whose login is deactivated, Erin an admin without an address: only Alice is mailed.
Charlie (Tailspin) hears nothing about Northwind's sites.
"""

import email
import io
import socket
from datetime import timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sat_portal import housekeeping
from sat_portal.settings import email_settings
from sites import alerts
from sites.credentials import scim_tokens
from sites.models import ScimToken, Site, SiteAlert, Staff
from tests.conftest import make_staff
from tests.support.admin import make_log_entry

PUBLIC_URL = "https://sat.example.com"


class Inbox:
    """aiosmtpd's handler: every message the server accepts, with its envelope."""

    def __init__(self):
        self.received: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"

    def take(self) -> list[tuple[list[str], Message]]:
        received, self.received = self.received, []
        return received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(settings, smtp_port):
    """An SMTP server on loopback, and the app's e-mail configured by EMAIL_URL for it."""
    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    for name, value in email_settings(f"smtp://127.0.0.1:{smtp_port}").items():
        setattr(settings, name, value)
    settings.EMAIL_ENABLED = True
    settings.PUBLIC_URL = PUBLIC_URL
    settings.DEFAULT_FROM_EMAIL = "SAT Portal <alerts@sat.example.com>"
    yield handler
    server.stop()


@pytest.fixture
def team(msp, alice, bob, charlie):
    for user, address in ((alice, "alice"), (bob, "bob"), (charlie, "charlie")):
        user.email = f"{address}@{'tailspin' if user is charlie else 'northwind'}.example"
        user.save()
    dave = make_staff("dave", msp, Staff.Role.ADMIN)
    dave.email, dave.is_active = "dave@northwind.example", False
    dave.save()
    make_staff("erin", msp, Staff.Role.ADMIN)


def requests(site: Site, *, ok: int, failed: int, status: int = 401, minutes_ago: int = 1):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    for i in range(ok + failed):
        make_log_entry(site, created=at, status=status if i < failed else 200)


def site_link(site: Site) -> str:
    return f"{PUBLIC_URL}/sites/{site.public_id}/sat/"


def body(message: Message) -> str:
    return message.get_payload(decode=True).decode()


# --- provisioning failing -----------------------------------------------------------------


def test_a_failing_site_mails_its_active_admins_with_an_address_once(inbox, team, contoso):
    requests(contoso, ok=4, failed=5)
    requests(contoso, ok=0, failed=1, status=409)
    make_log_entry(contoso, created=timezone.now(), status=409, scim_type="uniqueness")

    housekeeping.run_once()

    [(recipients, message)] = inbox.take()
    assert recipients == ["alice@northwind.example"]
    assert message["To"] == "alice@northwind.example"
    assert message["From"] == "SAT Portal <alerts@sat.example.com>"
    assert message["Subject"] == "SAT Portal: Contoso: provisioning is failing (64% errors)"
    text = body(message)
    assert "answered 7 of the 11 provisioning requests" in text
    assert "for Contoso (Northwind IT) with an error: 64%" in text
    assert "Most frequent: 401 (5), 409 (1), 409 uniqueness (1)." in text
    assert site_link(contoso) in text
    alert = SiteAlert.objects.get()
    assert (alert.site, alert.kind) == (contoso, SiteAlert.Kind.FAILING)

    requests(contoso, ok=0, failed=20)
    housekeeping.run_once()
    assert inbox.take() == []


def test_the_next_day_a_site_still_failing_mails_again(inbox, team, contoso):
    requests(contoso, ok=0, failed=10)
    assert alerts.send_due_alerts() == 1
    SiteAlert.objects.update(sent_at=timezone.now() - timedelta(hours=23))
    assert alerts.send_due_alerts() == 0
    SiteAlert.objects.update(sent_at=timezone.now() - timedelta(hours=24, seconds=1))
    assert alerts.send_due_alerts() == 1
    assert len(inbox.take()) == 2


@pytest.mark.parametrize(
    ("ok", "failed", "minutes_ago"),
    [
        (6, 4, 1),  # 40%: Entra quarantines above it
        (0, 9, 1),  # all failed, but fewer than FAILURE_ALERT_MINIMUM requests
        (0, 20, 16),  # all failed, before the window
    ],
)
def test_a_site_below_the_threshold_is_not_failing(inbox, team, contoso, ok, failed, minutes_ago):
    requests(contoso, ok=ok, failed=failed, minutes_ago=minutes_ago)
    assert alerts.send_due_alerts() == 0
    assert inbox.take() == [] and not SiteAlert.objects.exists()


def test_the_threshold_minimum_and_window_are_settings(inbox, team, contoso, settings):
    settings.FAILURE_ALERT_PERCENT, settings.FAILURE_ALERT_MINIMUM = 10, 3
    settings.FAILURE_ALERT_WINDOW = 3600
    requests(contoso, ok=2, failed=1, minutes_ago=50)
    assert alerts.send_due_alerts() == 1
    assert "In the last 60 minutes" in body(inbox.take()[0][1])


def test_what_people_and_the_guard_wrote_in_the_log_are_not_requests(inbox, team, contoso):
    requests(contoso, ok=2, failed=8)
    for _ in range(20):
        make_log_entry(contoso, method="ALERT", path="", status=200)
    assert alerts.send_due_alerts() == 1
    assert "answered 8 of the 10 provisioning requests" in body(inbox.take()[0][1])


def test_a_site_whose_training_is_disabled_gets_no_alert(inbox, team, contoso):
    contoso.sat_enabled = False
    contoso.save()
    requests(contoso, ok=0, failed=20)
    assert alerts.send_due_alerts() == 0


def test_each_msp_hears_only_of_its_own_sites(inbox, team, contoso, woodgrove):
    requests(contoso, ok=0, failed=10)
    requests(woodgrove, ok=0, failed=10)
    received = sorted(inbox_take_subjects(inbox))
    assert received == [
        (["alice@northwind.example"], "SAT Portal: Contoso: provisioning is failing (100% errors)"),
        (
            ["charlie@tailspin.example"],
            "SAT Portal: Woodgrove: provisioning is failing (100% errors)",
        ),
    ]


def inbox_take_subjects(inbox: Inbox) -> list[tuple[list[str], str]]:
    alerts.send_due_alerts()
    return [(recipients, message["Subject"]) for recipients, message in inbox.take()]


def test_an_msp_without_an_admin_to_mail_is_tried_again_later(inbox, team, contoso, alice):
    alice.email = ""
    alice.save()
    requests(contoso, ok=0, failed=10)
    assert alerts.send_due_alerts() == 0 and not SiteAlert.objects.exists()
    alice.email = "alice@northwind.example"
    alice.save()
    assert alerts.send_due_alerts() == 1


# --- credentials expiring -----------------------------------------------------------------


def test_a_secret_token_in_its_grace_period_mails_once(inbox, team, contoso):
    old, _ = scim_tokens.issue_token(contoso, via="command")
    new, _ = scim_tokens.issue_token(contoso, via="command")
    old.refresh_from_db()

    housekeeping.run_once()

    [(recipients, message)] = inbox.take()
    assert recipients == ["alice@northwind.example"]
    assert message["Subject"] == (
        f"SAT Portal: Contoso: a credential expires on {old.expires_at:%Y-%m-%d}"
    )
    text = body(message)
    assert f"- Secret Token satscim_…{old.hint} expires {old.expires_at:%Y-%m-%d %H:%M} UTC" in text
    assert "(last used never)" in text
    assert new.hint not in text
    assert site_link(contoso) in text

    housekeeping.run_once()
    assert inbox.take() == []


@pytest.mark.parametrize(
    ("expires_in", "revoked"),
    [(timedelta(days=31), False), (timedelta(days=-1), False), (timedelta(days=2), True)],
    ids=["after 30 days", "expired", "revoked"],
)
def test_only_usable_credentials_that_expire_within_30_days_count(
    inbox, team, contoso, expires_in, revoked
):
    scim_tokens.issue_token(contoso, via="command")
    now = timezone.now()
    ScimToken.objects.update(expires_at=now + expires_in, revoked_at=now if revoked else None)
    assert alerts.send_due_alerts() == 0


def test_failing_and_expiring_are_separate_alerts(inbox, team, contoso, fabrikam):
    old, _ = scim_tokens.issue_token(contoso, via="command")
    scim_tokens.issue_token(contoso, via="command")
    old.refresh_from_db()
    requests(contoso, ok=0, failed=10)
    requests(fabrikam, ok=0, failed=10)
    assert sorted(inbox_take_subjects(inbox)) == [
        (
            ["alice@northwind.example"],
            f"SAT Portal: Contoso: a credential expires on {old.expires_at:%Y-%m-%d}",
        ),
        (["alice@northwind.example"], "SAT Portal: Contoso: provisioning is failing (100% errors)"),
        (
            ["alice@northwind.example"],
            "SAT Portal: Fabrikam: provisioning is failing (100% errors)",
        ),
    ]
    assert set(SiteAlert.objects.values_list("site__name", "kind")) == {
        ("Contoso", "expiring"),
        ("Contoso", "failing"),
        ("Fabrikam", "failing"),
    }


def test_the_kinds_alerted_before_they_expire_are_chosen_on_purpose():
    """Every credential kind with a site is, unless it sets EXPIRY_ALERT = False (one that
    is minted and replaced without a person, like an hourly access token, would mail its
    site's admins every day). A new kind: decide, then list it here."""
    assert {model.KIND for model in alerts.alerted_kinds()} == {"scim_token", "client_secret"}


# --- across processes, and when the mail server is down -----------------------------------


def test_an_alert_another_process_sent_is_not_sent_again(inbox, team, contoso):
    """Two processes that noticed the same: only the one that claims it sends."""
    requests(contoso, ok=0, failed=10)
    now = timezone.now()
    assert alerts.claim(contoso, SiteAlert.Kind.FAILING, now)
    assert not alerts.claim(contoso, SiteAlert.Kind.FAILING, now)
    assert alerts.send_due_alerts() == 0
    assert inbox.take() == []


def test_a_mail_server_that_is_down_costs_nothing_but_a_retry(team, contoso, settings, smtp_port):
    for name, value in email_settings(f"smtp://127.0.0.1:{smtp_port}").items():
        setattr(settings, name, value)
    settings.EMAIL_ENABLED = True
    requests(contoso, ok=0, failed=10)

    assert alerts.send_due_alerts() == 0  # nothing listens on the port

    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        assert alerts.send_due_alerts() == 1
    finally:
        server.stop()
    assert len(handler.take()) == 1


def test_without_email_the_job_does_nothing_at_all(
    team, contoso, settings, django_assert_num_queries
):
    settings.EMAIL_ENABLED = False
    requests(contoso, ok=0, failed=10)
    with django_assert_num_queries(0):
        assert alerts.alert_job() is False


def test_the_queries_do_not_grow_with_the_number_of_sites(inbox, team, msp):
    """Healthy sites, and failing ones whose admins heard of it today, cost no query each."""

    def add_sites(count: int) -> int:
        for _ in range(count):
            n = Site.objects.count()
            healthy = Site.objects.create(msp=msp, name=f"Healthy {n}")
            requests(healthy, ok=20, failed=2)
            scim_tokens.issue_token(healthy, via="command")
            failing = Site.objects.create(msp=msp, name=f"Failing {n}")
            requests(failing, ok=0, failed=10)
            SiteAlert.objects.create(
                site=failing, kind=SiteAlert.Kind.FAILING, sent_at=timezone.now()
            )
        with CaptureQueriesContext(connection) as queries:
            assert alerts.send_due_alerts() == 0
        return len(queries)

    few = add_sites(3)
    assert few <= 4
    assert add_sites(30) == few
    assert inbox.take() == []


def test_send_alerts_does_the_same_from_the_shell(inbox, team, contoso, settings):
    requests(contoso, ok=0, failed=10)
    out = io.StringIO()
    call_command("send_alerts", stdout=out)
    assert out.getvalue() == "Sent 1 alert(s).\n"
    assert len(inbox.take()) == 1

    settings.EMAIL_ENABLED = False
    err = io.StringIO()
    call_command("send_alerts", stderr=err)
    assert "EMAIL_URL is not set" in err.getvalue()
