from .credentials import (
    AccessToken,
    ApiKey,
    ClientSecret,
    CredentialEvent,
    CredentialKind,
    CredentialState,
    HashedSecret,
    OAuthClient,
    ScimToken,
)
from .tenancy import MSP, Site, Staff

__all__ = [
    "MSP",
    "AccessToken",
    "ApiKey",
    "ClientSecret",
    "CredentialEvent",
    "CredentialKind",
    "CredentialState",
    "HashedSecret",
    "OAuthClient",
    "ScimToken",
    "Site",
    "Staff",
]
