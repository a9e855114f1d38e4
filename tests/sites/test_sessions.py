"""Console and admin sessions end SESSION_IDLE_TIMEOUT after the last request, without a
database write on every page."""

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone


def stored_session(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_session_lasts_the_idle_timeout_from_sign_in(signed_in, alice, settings):
    client = signed_in(alice)
    expires = stored_session(client).expire_date - timezone.now()
    assert abs(expires - timedelta(seconds=settings.SESSION_COOKIE_AGE)) < timedelta(seconds=5)
    assert settings.SESSION_COOKIE_AGE == 3600


def test_pages_within_a_minute_do_not_rewrite_the_session(signed_in, alice):
    client = signed_in(alice)
    before = stored_session(client).expire_date
    assert client.get("/").status_code == 200
    assert stored_session(client).expire_date == before


def test_activity_after_a_minute_pushes_the_end_of_the_session_forward(signed_in, alice):
    client = signed_in(alice)
    session = client.session
    session["_seen"] = int(time.time()) - 120
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=10)
    )
    assert client.get("/").status_code == 200
    assert stored_session(client).expire_date > timezone.now() + timedelta(minutes=55)


def test_an_idle_session_has_ended(signed_in, alice):
    client = signed_in(alice)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
