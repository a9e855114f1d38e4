"""Schema-driven fuzzing of /api/v1/: schemathesis generates requests, valid and invalid,
from the OpenAPI schema the API serves, and sends them through the WSGI app with Alice's
admin API key. No answer may be a 5xx, and every documented answer must match the schema.

Deterministic (derandomized Hypothesis) and bounded: 20 examples per operation. Driven
with Hypothesis directly: schemathesis' own pytest plugin does not run on pytest 9.
"""

import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from sites.credentials import federation, oauth, scim_tokens
from tests.support.api import key_for

TENANT = "https://login.microsoftonline.com/3f2a9c1e-7b4d-4e8a-9c6f-2d1b5a7e8c90"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, operations in SchemaGenerator().get_schema(public=True)["paths"].items()
    for method in operations
]


@pytest.fixture
def api_schema(db, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.API_RATE_LIMIT = "100000/min"
    cache.clear()
    # As Django's test client does: the WSGI handler would otherwise close the database
    # connection after each request, and with it the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_every_operation_is_fuzzed(api_schema):
    served = {result.ok().label for result in api_schema.get_all_operations()}
    assert served == set(OPERATIONS)
    assert len(OPERATIONS) == 23


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_generated_request_gets_a_5xx_or_breaks_the_schema(api_schema, alice, contoso, label):
    operation = api_schema.find_operation_by_label(label)
    headers = {"Authorization": f"Bearer {key_for(alice)}"}

    # Valid requests and invalid ones (wrong types, missing fields, bad ids), mixed.
    cases = st.one_of(operation.as_strategy(generation_mode=mode) for mode in GenerationMode)

    @given(case=cases, real_site=st.booleans())
    @settings(
        max_examples=20,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case, real_site: bool) -> None:
        # Half the requests name Contoso (and a token or secret of it), to get past the 404.
        if real_site and "site_id" in (case.path_parameters or {}):
            case.path_parameters["site_id"] = str(contoso.public_id)
            if "token_id" in case.path_parameters:
                token, _ = scim_tokens.issue_token(contoso, via="command")
                case.path_parameters["token_id"] = token.pk
            if "secret_id" in case.path_parameters:
                secret, _ = oauth.issue_secret(contoso, via="command")
                case.path_parameters["secret_id"] = secret.pk
            if "trust_id" in case.path_parameters:
                values = federation.TrustValues(
                    f"{TENANT}/v2.0", f"{TENANT}/discovery/v2.0/keys", str(uuid.uuid4()), "aud", ""
                )
                trust = federation.add_trust(contoso, values, via="command")
                case.path_parameters["trust_id"] = trust.pk
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
