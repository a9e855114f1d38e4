"""`manage.py create_msp NAME --admin EMAIL`: the first MSP and admin of a new install.

The operator runs it once; the admin opens the printed link, chooses a password and is
signed in. No password is ever printed.
"""

import os
import subprocess
import sys
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from sites.models import MSP, Staff
from tests.conftest import ROOT

NEW_PASSWORD = "a-long-new-password-for-alice"


def create_msp(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_msp", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_the_msp_and_its_first_admin_and_prints_a_set_password_link(db, settings):
    settings.PUBLIC_URL = "https://sat.example.com"
    out, err = create_msp("Acme IT", "--admin", "alice@acme.example")

    link = out.strip().splitlines()[-1]
    assert link.startswith("https://sat.example.com/accounts/set-password/")
    assert "Created MSP Acme IT with admin alice@acme.example" in err
    staff = Staff.objects.select_related("msp", "user").get()
    assert staff.msp.name == "Acme IT" and staff.is_admin
    assert staff.user.username == staff.user.email == "alice@acme.example"
    assert not staff.user.has_usable_password()


def test_the_link_sets_the_password_once_and_signs_the_admin_in(db, client):
    path = urlsplit(create_msp("Acme IT", "--admin", "alice@acme.example")[0].strip()).path

    form = client.get(path, follow=True)
    assert b"Choose your password" in form.content and b"alice@acme.example" in form.content
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else path
    done = client.post(
        set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert done.redirect_chain[-1][0] == "/"
    assert b"Your password is set" in done.content and b"Acme IT" in done.content
    assert get_user_model().objects.get().check_password(NEW_PASSWORD)

    client.logout()
    again = client.get(path, follow=True)
    assert b"has been used already" in again.content


def test_a_weak_password_is_a_form_error(db, client):
    path = urlsplit(create_msp("Acme IT", "--admin", "alice@acme.example")[0].strip()).path
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert b"This password is too common." in response.content
    assert not get_user_model().objects.get().has_usable_password()


def test_it_refuses_an_msp_that_exists_whatever_the_case(db):
    create_msp("Acme IT", "--admin", "alice@acme.example")
    with pytest.raises(CommandError, match="An MSP named 'ACME it' already exists"):
        create_msp("ACME it", "--admin", "bob@acme.example")
    assert MSP.objects.count() == 1 and get_user_model().objects.count() == 1


def test_it_refuses_a_login_that_exists_or_an_address_that_is_not_one(db):
    create_msp("Acme IT", "--admin", "alice@acme.example")
    with pytest.raises(CommandError, match=r"A login named 'Alice@acme\.example' already exists"):
        create_msp("Tailspin", "--admin", "Alice@acme.example")
    with pytest.raises(CommandError, match="'alice' is not an email address"):
        create_msp("Tailspin", "--admin", "alice")
    assert MSP.objects.count() == 1


def test_a_refusal_exits_non_zero_with_the_reason(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "x",
        "ENV_FILE": "",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    command = [sys.executable, "manage.py", "create_msp", "Acme IT", "--admin", "a@acme.example"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert second.returncode != 0
    assert "An MSP named 'Acme IT' already exists" in second.stderr and second.stdout == ""
