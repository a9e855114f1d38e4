"""Bearer MSP API keys for /api/v1/ (the browsable API also accepts the console session)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from sites.credentials import api_keys
from sites.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer satapi_…` -> (the key's creator, the key).

    Anything else after "Bearer" is refused, Secret Tokens (`satscim_…`) included: they
    authenticate Entra for one site, never an MSP.
    """

    keyword = "Bearer"

    def authenticate(self, request) -> tuple[object, ApiKey] | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        key = api_keys.verify_key(credentials.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(
                "The API key is not valid: it is unknown or revoked, or the staff member "
                "who created it no longer has access to your MSP. Create one in the "
                "console under API keys and send it as 'Authorization: Bearer satapi_…'."
            )
        return key.created_by, key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="SAT Portal API"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An MSP API key (`satapi_…`), created by an MSP admin in the console.",
        }
