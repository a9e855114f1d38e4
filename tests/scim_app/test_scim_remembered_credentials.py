"""A worker looks a SCIM credential up once and then remembers it (sites.remembered),
and forgets it at the first change to any credential or site: a remembered credential
is never accepted a request longer than the database would accept it."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from scim_app.models import ScimUser
from sites import remembered, services
from sites.credentials import base, entra, oauth, scim_tokens
from sites.models import MSP, AccessToken, ClientSecret, OAuthClient, ScimToken, Site
from tests.conftest import ScimClient
from tests.support.oauth import fetch_access_token

from .conftest import assert_scim_error, entra_user

CREDENTIAL_TABLES = ("sites_scimtoken", "sites_accesstoken")


def lookups(queries) -> list[str]:
    return [sql for sql in queries.statements if any(t in sql for t in CREDENTIAL_TABLES)]


@pytest.fixture(params=["contoso_scim", "contoso_oauth_scim"], ids=["secret token", "access token"])
def entra_scim(request):
    return request.getfixturevalue(request.param)


def test_a_credential_is_looked_up_by_its_first_request_only(entra_scim, count_queries):
    with count_queries() as first:
        assert entra_scim.get("Users", count=0).status_code == 200
    with count_queries() as second:
        assert entra_scim.get("Users", count=0).status_code == 200
    assert len(lookups(first)) == 1
    assert lookups(second) == []
    assert len(second) == len(first) - 1


def test_nothing_is_remembered_without_a_shared_cache(entra_scim, count_queries, settings):
    settings.SCIM_REMEMBER_CREDENTIALS = False
    entra_scim.get("Users", count=0)
    with count_queries() as again:
        assert entra_scim.get("Users", count=0).status_code == 200
    assert len(lookups(again)) == 1


def test_a_cache_that_lost_its_generation_makes_every_worker_look_up_again(
    entra_scim, count_queries
):
    """Redis restarted, or was flushed: what was remembered before cannot be vouched for."""
    entra_scim.get("Users", count=0)
    cache.clear()
    with count_queries() as after_restart:
        assert entra_scim.get("Users", count=0).status_code == 200
    assert len(lookups(after_restart)) == 1
    with count_queries() as next_one:
        entra_scim.get("Users", count=0)
    assert lookups(next_one) == []


def test_nothing_is_remembered_longer_than_its_maximum_age(entra_scim, count_queries, monkeypatch):
    monkeypatch.setattr(remembered, "MAX_AGE", 0.0)
    entra_scim.get("Users", count=0)
    with count_queries() as later:
        assert entra_scim.get("Users", count=0).status_code == 200
    assert len(lookups(later)) == 1


def now():
    return timezone.now()


def training_off_by_a_save(site: Site) -> None:
    site = Site.objects.get(pk=site.pk)
    site.sat_enabled = False
    site.save()


SECRET_TOKEN_CHANGES = {
    "revoked": lambda site: scim_tokens.revoke_token(ScimToken.objects.get()),
    "revoked by an update": lambda site: ScimToken.objects.update(revoked_at=now()),
    "expired by an update": lambda site: ScimToken.objects.update(
        expires_at=now() - timedelta(seconds=1)
    ),
    "deleted": lambda site: ScimToken.objects.get().delete(),
    "deleted with its table's rows": lambda site: ScimToken.objects.all().delete(),
    "integration disabled": lambda site: entra.disable(site),
    "training off": lambda site: services.set_sat_enabled(site, False),
    "training off by a save": training_off_by_a_save,
    "training off by an update": lambda site: Site.objects.update(sat_enabled=False),
    "site deleted": lambda site: Site.objects.get(pk=site.pk).delete(),
    "MSP deleted": lambda site: MSP.objects.all().delete(),
}


@pytest.mark.parametrize("change", SECRET_TOKEN_CHANGES.values(), ids=SECRET_TOKEN_CHANGES)
def test_a_remembered_secret_token_is_refused_after_any_change(contoso, contoso_scim, change):
    for _ in range(2):  # looked up, then remembered
        assert contoso_scim.get("Users").status_code == 200
    change(contoso)
    assert_scim_error(contoso_scim.get("Users"), 401)
    assert_scim_error(contoso_scim.post("Users", entra_user("x@contoso.example")), 401)
    assert not ScimUser.objects.exists()


ACCESS_TOKEN_CHANGES = {
    "secret revoked by an update": lambda site: ClientSecret.objects.update(revoked_at=now()),
    "client revoked by an update": lambda site: OAuthClient.objects.update(revoked_at=now()),
    "client revoked": lambda site: oauth.revoke_client(OAuthClient.objects.get()),
    "token revoked by an update": lambda site: AccessToken.objects.update(revoked_at=now()),
    "token expired by an update": lambda site: AccessToken.objects.update(
        expires_at=now() - timedelta(seconds=1)
    ),
    "secret deleted": lambda site: ClientSecret.objects.all().delete(),
    "training off by an update": lambda site: Site.objects.update(sat_enabled=False),
}


@pytest.mark.parametrize("change", ACCESS_TOKEN_CHANGES.values(), ids=ACCESS_TOKEN_CHANGES)
def test_a_remembered_access_token_is_refused_after_any_change(contoso, contoso_oauth_scim, change):
    for _ in range(2):
        assert contoso_oauth_scim.get("Users").status_code == 200
    change(contoso)
    assert_scim_error(contoso_oauth_scim.get("Users"), 401)


def test_a_remembered_site_holds_deletes_from_the_moment_hold_mode_is_on(contoso, contoso_scim):
    created = contoso_scim.post("Users", entra_user("dana@contoso.example")).json()
    assert contoso_scim.get(f"Users/{created['id']}").status_code == 200
    Site.objects.filter(pk=contoso.pk).update(hold_deletes=True)

    assert contoso_scim.delete(f"Users/{created['id']}").status_code == 204

    assert contoso_scim.get(f"Users/{created['id']}").json()["active"] is False
    assert ScimUser.objects.get(pk=created["id"]).deleted_at is None


def test_a_token_refused_once_never_counts_against_its_sites_rate(contoso, contoso_scim, settings):
    """A worker counts a remembered credential's request against its site's rate before
    checking it (in the round trip that reads memory's generation); one it remembers as
    refused must not: whoever holds a revoked token cannot use up the site's allowance."""
    settings.SCIM_SITE_RATE_LIMIT = "4/min"
    assert contoso_scim.get("Users", count=0).status_code == 200  # 1 of 4
    scim_tokens.revoke_token(ScimToken.objects.get())
    # The first refusal counts (2 of 4): memory still held the token as good when it was
    # counted, and learnt otherwise in the check. The others do not.
    for _ in range(5):
        assert_scim_error(contoso_scim.get("Users", count=0), 401)
    _, plaintext = scim_tokens.issue_token(contoso)
    current = ScimClient(plaintext)
    assert [current.get("Users", count=0).status_code for _ in range(3)] == [200, 200, 429]


def test_minting_an_access_token_leaves_memory_alone(
    contoso, contoso_client, contoso_oauth_scim, count_queries
):
    """Each mint deletes the site's expired access tokens: memory refuses those already."""
    contoso_oauth_scim.get("Users", count=0)
    base.create(
        AccessToken,
        site=contoso,
        secret=ClientSecret.objects.get(),
        expires_at=now() - timedelta(minutes=1),
    )
    fetch_access_token(contoso_client)
    assert AccessToken.objects.count() == 2  # the expired one went
    with count_queries() as after_mint:
        assert contoso_oauth_scim.get("Users", count=0).status_code == 200
    assert lookups(after_mint) == []


def test_using_a_credential_is_no_change(contoso, contoso_scim, count_queries):
    """Its last use is written once a minute; that does not make workers forget."""
    contoso_scim.get("Users", count=0)
    ScimToken.objects.update(last_used_at=now() - timedelta(minutes=5))
    with count_queries() as after_use:
        contoso_scim.get("Users", count=0)
    assert lookups(after_use) == []


class RolledBack(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_change_is_announced_again_when_it_commits(contoso, contoso_scim):
    """A request that read the rows while the change was not yet committed may have
    remembered them under the generation the change set first: the commit sets another."""
    contoso_scim.get("Users", count=0)
    before = cache.get(remembered.GENERATION_KEY)
    with pytest.raises(RolledBack), transaction.atomic():
        scim_tokens.revoke_token(ScimToken.objects.get())
        assert cache.get(remembered.GENERATION_KEY) != before  # at once
        raise RolledBack
    assert contoso_scim.get("Users", count=0).status_code == 200  # nothing was revoked

    with transaction.atomic():
        scim_tokens.revoke_token(ScimToken.objects.get())
        inside = cache.get(remembered.GENERATION_KEY)
    assert cache.get(remembered.GENERATION_KEY) not in (before, inside)
    assert_scim_error(contoso_scim.get("Users"), 401)
