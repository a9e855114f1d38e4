"""issue_scim_client, as an operator runs it: a site's OAuth client and a new secret, the
last line of output one JSON object with the four values Entra needs."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sites.models import ClientSecret, CredentialEvent, OAuthClient, Site
from tests.conftest import ROOT, ScimClient
from tests.support.oauth import ClientCredentials, fetch_access_token

KEYS = {"tenant_url", "token_endpoint", "client_id", "client_secret"}


def run(*args) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("issue_scim_client", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


@pytest.fixture
def demo(db, fresh_counters):
    call_command("seed_demo", "--password", "pw-for-the-demo-123", stdout=StringIO())


def test_it_prints_what_entra_needs_and_the_secret_works(demo):
    issued, err = run("contoso")

    assert set(issued) == KEYS
    assert issued["tenant_url"] == "http://localhost:8000/api/v2/scim"
    assert issued["token_endpoint"] == "http://localhost:8000/api/v2/oauth/token"
    client = OAuthClient.objects.get()
    assert client.site.name == "Contoso" and issued["client_id"] == client.client_id
    credentials = ClientCredentials(issued["client_id"], issued["client_secret"])
    assert ScimClient(fetch_access_token(credentials)).get("Users").status_code == 200
    secret = ClientSecret.objects.get()
    assert issued["client_secret"] not in err and f"…{secret.hint}" in err
    event = CredentialEvent.objects.get()
    assert (event.kind, event.action, event.via, event.actor) == (
        "client_secret",
        "issued",
        "command",
        None,
    )


def test_the_urls_follow_scim_base_url(demo, settings):
    settings.SCIM_BASE_URL = "https://sat.example.com/api/v2/scim"
    issued, _ = run("Contoso")
    assert issued["tenant_url"] == "https://sat.example.com/api/v2/scim"
    assert issued["token_endpoint"] == "https://sat.example.com/api/v2/oauth/token"


def test_running_it_again_adds_a_secret_to_the_same_client(demo):
    first, _ = run("Contoso")
    second, _ = run("Contoso")
    assert second["client_id"] == first["client_id"]
    assert second["client_secret"] != first["client_secret"]
    for issued in (first, second):
        credentials = ClientCredentials(issued["client_id"], issued["client_secret"])
        assert fetch_access_token(credentials)
    assert OAuthClient.objects.count() == 1 and ClientSecret.objects.count() == 2


def test_the_lifetime_can_be_chosen_within_one_to_three_years(demo):
    run("Contoso", "--lifetime-days", "1095")
    expires = ClientSecret.objects.get().expires_at
    assert timezone.now() + timedelta(days=1094) < expires
    with pytest.raises(CommandError, match="A client secret lasts 365 to 1095 days"):
        run("Contoso", "--lifetime-days", "3650")
    assert ClientSecret.objects.count() == 1


def test_it_refuses_unknown_and_disabled_sites(demo):
    with pytest.raises(CommandError, match="No site is named 'Northwind'"):
        run("Northwind")
    Site.objects.filter(name="Fabrikam").update(sat_enabled=False)
    with pytest.raises(CommandError, match="Enable Security Awareness Training"):
        run("Fabrikam")
    assert not OAuthClient.objects.exists() and not ClientSecret.objects.exists()


def test_the_json_is_the_last_line_of_the_real_output(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "x",
        "ENV_FILE": "",
        "PUBLIC_URL": "https://sat.example.com",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    manage("migrate", "-v0")
    manage("seed_demo", "--password", "pw-for-the-demo-123")
    result = manage("issue_scim_client", "Contoso")
    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout.splitlines()[-1])
    assert set(issued) == KEYS
    # Without SCIM_BASE_URL, the public address the operator configured.
    assert issued["token_endpoint"] == "https://sat.example.com/api/v2/oauth/token"
    missing = manage("issue_scim_client", "Nowhere")
    assert missing.returncode != 0 and "No site is named 'Nowhere'" in missing.stderr
    assert missing.stdout == ""
