"""Settings from the environment, and the local `.env` that ./scripts/demo writes once so
that every README command works in a demo checkout without typing variables."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def clean_environment(**extra: str) -> dict[str, str]:
    unset = ("SECRET_KEY", "DEBUG", "ENV_FILE", "DATABASE_URL")
    return {**{k: v for k, v in os.environ.items() if k not in unset}, **extra}


def test_a_local_env_file_supplies_what_the_environment_does_not(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# written by ./scripts/demo\nDEBUG=true\nSECRET_KEY='local-key'\n")
    result = manage(
        "shell", "-v", "0", "-c", "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)",
        env=clean_environment(ENV_FILE=str(env_file)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "local-key"]


def test_the_real_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nSECRET_KEY=local-key\n")
    result = manage(
        "shell", "-v", "0", "-c", "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)",
        env=clean_environment(ENV_FILE=str(env_file), DEBUG="false", SECRET_KEY="production-key"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "production-key"]


def test_a_malformed_env_file_is_refused_with_its_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nthis is not a setting\n")
    result = manage("check", env=clean_environment(ENV_FILE=str(env_file)))
    assert result.returncode != 0
    assert f"{env_file}, line 2: expected NAME=value" in result.stderr


def test_without_an_env_file_debug_off_needs_a_secret_key():
    result = manage("check", env=clean_environment(ENV_FILE=""))
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OAUTH_ACCESS_TOKEN_LIFETIME", "3599"),
        ("OAUTH_ACCESS_TOKEN_LIFETIME", "21601"),
        ("OAUTH_SECRET_LIFETIME_DAYS", "364"),
        ("OAUTH_SECRET_LIFETIME_DAYS", "1096"),
    ],
)
def test_oauth_lifetimes_outside_microsofts_bounds_stop_the_app(name, value):
    """Access tokens must last 60 minutes to 6 hours, client secrets 1 to 3 years."""
    result = manage("check", env=clean_environment(ENV_FILE="", SECRET_KEY="x", **{name: value}))
    assert result.returncode != 0
    assert f"{name} must be between" in result.stderr and value in result.stderr


def test_oauth_lifetimes_at_their_bounds_are_accepted():
    env = clean_environment(
        ENV_FILE="",
        SECRET_KEY="x",
        OAUTH_ACCESS_TOKEN_LIFETIME="21600",
        OAUTH_SECRET_LIFETIME_DAYS="1095",
    )
    result = manage(
        "shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.OAUTH_ACCESS_TOKEN_LIFETIME, s.OAUTH_SECRET_LIFETIME_DAYS)",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["21600", "1095"]


def test_email_url_configures_smtp_and_anything_else_is_refused():
    show = "from django.conf import settings as s; print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)"
    env = clean_environment(ENV_FILE="", SECRET_KEY="x")
    for url, expected in [
        (
            "smtp+tls://alerts%40sat:p%40ss@mail.example",
            "mail.example 587 alerts@sat p@ss True False",
        ),
        ("smtps://mail.example:2465", "mail.example 2465   False True"),
        ("smtp://127.0.0.1:1025", "127.0.0.1 1025   False False"),
    ]:
        result = manage("shell", "-v", "0", "-c", show, env={**env, "EMAIL_URL": url})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected, url
    refused = manage("check", env={**env, "EMAIL_URL": "mailto:alerts@sat.example"})
    assert refused.returncode != 0
    assert "EMAIL_URL must look like smtp://user:password@host:port" in refused.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SCIM_SITE_RATE_LIMIT", "200 per second"),
        ("SCIM_REFUSAL_RATE_LIMIT", "60/fortnight"),
        ("OAUTH_TOKEN_RATE_LIMIT", "/min"),
        ("OAUTH_TOKEN_ADDRESS_RATE_LIMIT", "300"),
        ("API_RATE_LIMIT", "-1/min"),
    ],
)
def test_a_malformed_rate_limit_stops_the_app_at_start_up(name, value):
    """Not a 500 on every request the limit guards, found only when Entra calls."""
    result = manage("check", env=clean_environment(ENV_FILE="", SECRET_KEY="x", **{name: value}))
    assert result.returncode != 0
    assert f"{name} must be a rate such as 600/min, not {value!r}" in result.stderr


def test_rate_limits_in_every_documented_spelling_are_accepted():
    env = clean_environment(
        ENV_FILE="",
        SECRET_KEY="x",
        SCIM_SITE_RATE_LIMIT="200/sec",
        SCIM_REFUSAL_RATE_LIMIT="60/minute",
        OAUTH_TOKEN_RATE_LIMIT="30/m",
        OAUTH_TOKEN_ADDRESS_RATE_LIMIT="1000/hour",
        API_RATE_LIMIT="10000/day",
    )
    result = manage(
        "shell", "-v", "0", "-c", "from django.conf import settings; print(settings.API_RATE_LIMIT)",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10000/day"


def test_remembering_credentials_without_a_shared_cache_stops_the_app():
    """Each worker would remember what another revoked (sites.remembered)."""
    env = clean_environment(ENV_FILE="", SECRET_KEY="x", REDIS_URL="")
    result = manage("check", env={**env, "SCIM_REMEMBER_CREDENTIALS": "true"})
    assert result.returncode != 0
    assert "SCIM_REMEMBER_CREDENTIALS needs REDIS_URL" in result.stderr

    script = "from django.conf import settings; print(settings.SCIM_REMEMBER_CREDENTIALS)"
    by_default = manage("shell", "-v", "0", "-c", script, env=env)
    assert by_default.stdout.split() == ["False"], by_default.stderr
    with_redis = manage(
        "shell", "-v", "0", "-c", script, env={**env, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    assert with_redis.stdout.split() == ["True"], with_redis.stderr
