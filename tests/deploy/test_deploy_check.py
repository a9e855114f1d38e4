"""`manage.py check --deploy` with the variables the README gives production.

Django's deployment checklist is the operator's last look before going live: with the
production variables it must find nothing (a warning there is either a real hole or
noise that teaches operators to ignore it), and without a SECRET_KEY the app must refuse
to start with a message that says what to do, not run with a key anyone can read.
"""

from pathlib import Path

import pytest

from .servers import app_environment, fresh_database, manage, random_secret_key, requires_postgres

pytestmark = requires_postgres

PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "sat.example.com",
    "SECURE_COOKIES": "true",
    "SECURE_SSL_REDIRECT": "true",
    "HSTS_SECONDS": "31536000",
    "HSTS_INCLUDE_SUBDOMAINS": "true",
    "HSTS_PRELOAD": "true",
    "USE_X_FORWARDED_PROTO": "true",
}


def test_the_production_variables_pass_djangos_deployment_checklist(stack, tmp_path: Path):
    database_url = stack.enter_context(fresh_database("check"))
    secret_key = random_secret_key()
    assert len(secret_key) >= 50
    env = app_environment(database_url, tmp_path, SECRET_KEY=secret_key, **PRODUCTION)

    # --database: the database checks run too; --fail-level WARNING: a warning fails it.
    result = manage(
        env, "check", "--deploy", "--database", "default", "--fail-level", "WARNING", check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [None, ""],
    ids=["when SECRET_KEY is unset", "when SECRET_KEY is set but empty"],
)
def test_without_a_secret_key_the_app_refuses_to_start_and_says_why(
    secret_key: str | None, stack, tmp_path: Path
):
    database_url = stack.enter_context(fresh_database("nokey"))
    env = app_environment(database_url, tmp_path, **PRODUCTION)
    if secret_key is None:
        del env["SECRET_KEY"]
    else:
        env["SECRET_KEY"] = secret_key

    result = manage(env, "check", "--deploy", check=False)

    assert result.returncode != 0, "the app started without a SECRET_KEY:\n" + result.stdout
    assert "SECRET_KEY is not set" in result.stderr
    assert "Set it to a long random value" in result.stderr
