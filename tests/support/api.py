"""Helpers for the REST API tests: a JSON client and API keys for the personas."""

import json

from django.test import Client

from sites.credentials import api_keys


class ApiClient:
    """Sends JSON to /api/v1/ with `Authorization: Bearer <credential>`, as a script does."""

    def __init__(self, credential: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {credential}"} if credential else {}

    def request(self, method: str, path: str, body=None, *, raw: str | None = None):
        path = path.removeprefix("http://testserver")  # the `next` links of a page
        if not path.startswith("/"):
            path = "/api/v1/" + path
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method, path, data, content_type="application/json", headers=self.headers
        )

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str):
        return self.request("DELETE", path)


def key_for(user, name: str = "Onboarding script") -> str:
    """A new API key created by `user` for their MSP; returns the plaintext."""
    return api_keys.issue_key(user.staff.msp, name=name, by=user)[1]
