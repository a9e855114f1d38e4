"""seed_demo and issue_scim_token, as an operator runs them."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from sites.models import MSP, CredentialEvent, ScimToken, Site, Staff
from tests.conftest import ScimClient

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_seed_demo_creates_the_demo_msp_sites_and_login(db):
    out, _ = run("seed_demo", "--password", "pw-for-the-demo-123")
    assert "demo / pw-for-the-demo-123" in out
    msp = MSP.objects.get(name="Demo MSP")
    assert sorted(msp.sites.values_list("name", flat=True)) == ["Contoso", "Fabrikam"]
    assert all(msp.sites.values_list("sat_enabled", flat=True))
    user = authenticate(username="demo", password="pw-for-the-demo-123")
    assert user.staff.msp == msp and user.staff.role == Staff.Role.ADMIN


def test_seed_demo_is_idempotent_and_generates_a_password(db):
    run("seed_demo", "--password", "first-password-123")
    out, _ = run("seed_demo")
    password = out.strip().splitlines()[-1].split(" / ")[1]
    assert len(password) >= 12
    assert authenticate(username="demo", password=password)
    assert MSP.objects.count() == 1 and Site.objects.count() == 2 and Staff.objects.count() == 1


def test_issue_scim_token_prints_a_working_token_last(db):
    run("seed_demo", "--password", "pw-for-the-demo-123")
    out, err = run("issue_scim_token", "contoso")
    plaintext = out.strip().splitlines()[-1]
    assert plaintext.startswith("satscim_")
    assert ScimClient(plaintext).get("Users").status_code == 200
    token = ScimToken.objects.get()
    assert token.site.name == "Contoso" and plaintext not in err and token.hint in err
    assert CredentialEvent.objects.get().via == "command"


def test_issue_scim_token_refuses_unknown_and_disabled_sites(db):
    run("seed_demo", "--password", "pw-for-the-demo-123")
    with pytest.raises(CommandError, match="No site"):
        run("issue_scim_token", "Northwind")
    Site.objects.filter(name="Fabrikam").update(sat_enabled=False)
    with pytest.raises(CommandError, match="Enable Security Awareness Training"):
        run("issue_scim_token", "Fabrikam")
    assert not ScimToken.objects.exists()


def test_the_command_exits_non_zero_with_a_clear_message(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SECRET_KEY": "x"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "issue_scim_token", "Nowhere"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "No site is named 'Nowhere'" in result.stderr and result.stdout == ""


def test_settings_refuse_the_development_key_without_debug(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DEBUG": "true"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
