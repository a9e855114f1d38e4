"""One JSON log line per request, a request id on every answer, and Prometheus metrics.

Logs and metrics name the route, never the path's ids, the query string, a header or a
body: those carry tokens and personal data.
"""

import json
import logging
import re
import sys

from sat_portal.observability import JsonFormatter
from scim_app.models import ScimUser
from tests.conftest import ScimClient
from tests.scim_app.conftest import create_user

METRICS_TOKEN = "metrics-token-for-tests"


def request_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "sat_portal.requests"
    ]


def test_every_answer_carries_a_new_request_id(client, db):
    first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-Id"])
    assert first["X-Request-Id"] != second["X-Request-Id"]


def test_a_load_balancers_request_id_is_kept_and_a_malformed_one_replaced(client, db):
    kept = client.get("/accounts/login/", headers={"X-Request-Id": "lb-7f3a9c21-0001"})
    assert kept["X-Request-Id"] == "lb-7f3a9c21-0001"
    replaced = client.get("/accounts/login/", headers={"X-Request-Id": "x\r\nSet-Cookie: a=b"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-Id"])


def test_a_scim_request_is_one_json_line_with_route_status_duration_and_site(
    contoso, contoso_scim, caplog
):
    user = create_user(contoso_scim, "dana.fisher@contoso.example")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sat_portal.requests"):
        response = contoso_scim.get(f"Users/{user['id']}")

    [line] = request_lines(caplog)
    assert line["request_id"] == response["X-Request-Id"]
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/v2/scim/Users/{resource_id}"
    assert line["site"] == str(contoso.public_id)
    assert isinstance(line["duration_ms"], float)


def test_the_log_line_holds_no_token_id_query_or_body(contoso_scim, caplog):
    with caplog.at_level(logging.INFO, logger="sat_portal.requests"):
        contoso_scim.get("Users", filter='userName eq "dana.fisher@contoso.example"')
        contoso_scim.post("Users", {"userName": "erin@contoso.example", "password": "hunter2!"})
    erin = ScimUser.objects.get()
    text = json.dumps(request_lines(caplog))
    for secret in (contoso_scim.token, "dana.fisher", "hunter2", str(erin.id), "filter"):
        assert secret not in text


def test_a_path_no_route_matches_is_logged_as_unmatched(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="sat_portal.requests"):
        client.get("/wp-login.php?user=admin")
    [line] = request_lines(caplog)
    assert line["route"] == "unmatched" and line["status"] == 404


def test_metrics_do_not_exist_without_a_token(client, db):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(client, db, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-for-test"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")


def test_metrics_count_requests_by_route_and_scim_requests_by_site(
    client, contoso, contoso_scim, settings
):
    settings.METRICS_TOKEN = METRICS_TOKEN
    contoso_scim.get("Users")
    ScimClient("satscim_" + "x" * 43).get("Users")  # refused: no site
    contoso_scim.get("Users/not-an-id")

    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert re.search(
        r'sat_http_requests_total\{method="GET",route="/api/v2/scim/Users",status="200"\} \d', text
    )
    assert 'route="/api/v2/scim/Users/{resource_id}",status="404"' in text
    site = str(contoso.public_id)
    assert re.search(rf'sat_scim_requests_total\{{site="{site}"\}} [1-9]', text)
    assert re.search(rf'sat_scim_errors_total\{{site="{site}",status="404"\}} [1-9]', text)
    assert 'sat_http_request_duration_seconds_bucket{le="0.005",method="GET"' in text


def test_the_json_formatter_writes_one_line_with_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "sat_portal", logging.ERROR, __file__, 1, "failed %s", ("x",), exc_info
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed x" and parsed["level"] == "ERROR"
    assert "ValueError: boom" in parsed["exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", parsed["time"])


def test_an_endpoint_we_do_not_implement_is_no_server_error_in_the_log(contoso_scim, caplog):
    # /Bulk is advertised as unsupported: its 501 is an answer, not a fault to page anyone.
    with caplog.at_level(logging.INFO):
        response = contoso_scim.post("Bulk", {"Operations": []})
    assert response.status_code == 501
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    [line] = request_lines(caplog)
    assert line["status"] == 501 and line["route"] == "/api/v2/scim/Bulk"
