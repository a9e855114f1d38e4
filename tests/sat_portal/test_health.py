"""/healthz and /readyz for load balancers: cheap, no sign-in, no log, any Host header."""

import pytest

from scim_app.models import ProvisioningLogEntry


def test_healthz_answers_without_touching_the_database(client):
    # No `db` fixture: pytest-django refuses any database access in this test.
    response = client.get("/healthz", headers={"Host": "10.0.0.7:8000"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_checks_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/readyz", headers={"Host": "10.0.0.7:8000"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_is_503_while_redis_cannot_be_reached(client, unreachable_redis, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unreachable"},
    }


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https_nor_logged(client, settings, db, path):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(path)
    assert response.status_code == 200
    assert not ProvisioningLogEntry.objects.exists()
