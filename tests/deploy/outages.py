"""What the outage tests (the database, Redis) check of the app's answers while a service
it needs is away, and how they wait for it to serve again once the service is back.

Entra's provisioning service retries a 503 that carries Retry-After and counts anything
else (an HTML 500, a hang) as a failure that can quarantine the job; scripts need JSON
they can read; people in the console a page that says what happened.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from .servers import CONNECTION_ERRORS, Answer, FormSession, Seed, request

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
RECOVERY_DEADLINE = 10.0  # seconds from the service's return to the app's first 200


@dataclass
class App:
    """The requests an outage test sends to the app at `url`, seeded with `data`."""

    url: str
    data: Seed

    def scim(self) -> Answer:
        token = self.data.scim_token
        return request("GET", self.url + "/api/v2/scim/Users", headers=bearer(token))

    def api(self) -> Answer:
        key = self.data.api_keys["deploy-test"]
        return request("GET", self.url + "/api/v1/sites/", headers=bearer(key))

    def sign_in(self, console: FormSession, csrf: str) -> Answer:
        form = {"csrfmiddlewaretoken": csrf, "username": self.data.admin}
        return console.send("POST", "/accounts/login/", {**form, "password": self.data.password})


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_serving(app: App) -> None:
    """Every worker thread answers (so that each holds its connections), as a node in
    service does."""
    for _ in range(8):
        assert app.scim().status == 200
    assert app.api().status == 200
    assert request("GET", app.url + "/readyz").status == 200


def assert_apis_say_retry_within(app: App, seconds: float) -> None:
    """SCIM, from whichever worker answers, and the REST API, each within `seconds`."""
    for _ in range(4):
        scim, took = timed(app.scim)
        assert_scim_retry_later(scim)
        assert took < seconds
    api, took = timed(app.api)
    assert_api_retry_later(api)
    assert took < seconds


def timed_request(method: str, url: str, **kwargs) -> tuple[Answer, float]:
    return timed(lambda: request(method, url, **kwargs))


def timed(send: Callable[[], Answer]) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = send()
    return answer, time.monotonic() - started


def assert_scim_retry_later(answer: Answer) -> None:
    """A SCIM error body with 503 and Retry-After."""
    assert answer.status == 503, answer.text
    assert answer.headers["content-type"].startswith("application/scim+json")
    body = answer.json()
    assert body["schemas"] == [ERROR_URN]
    assert body["status"] == "503"
    assert "briefly unavailable" in body["detail"]
    assert int(answer.headers["retry-after"]) > 0


def assert_api_retry_later(answer: Answer) -> None:
    """The REST API's: JSON, never an HTML page."""
    assert answer.status == 503, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert "briefly unavailable" in answer.json()["detail"]
    assert int(answer.headers["retry-after"]) > 0


def assert_console_retry_later(answer: Answer) -> None:
    """The console's: a page that says so, and nothing of the cause."""
    assert answer.status == 503, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    assert "Briefly unavailable" in answer.text
    assert "Traceback" not in answer.text
    assert int(answer.headers["retry-after"]) > 0


def wait_until_serving(app: App, what: str) -> None:
    """Send SCIM requests until one is answered 200, RECOVERY_DEADLINE at most after
    `what` came back."""
    restored = time.monotonic()
    statuses: list[int | str] = []
    while time.monotonic() - restored < RECOVERY_DEADLINE:
        try:
            status = app.scim().status
        except CONNECTION_ERRORS as error:
            status = type(error).__name__
        statuses.append(status)
        if status == 200:
            break
        time.sleep(0.2)
    print(f"\nrecovered {time.monotonic() - restored:.2f} s after {what} came back: {statuses}")
    assert statuses[-1] == 200, f"no 200 within {RECOVERY_DEADLINE} s: {statuses}"
