from .credentials import (
    AccessToken,
    ApiKey,
    ClientSecret,
    Credential,
    CredentialEvent,
    CredentialKind,
    CredentialState,
    FederationTrust,
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
    "Credential",
    "CredentialEvent",
    "CredentialKind",
    "CredentialState",
    "FederationTrust",
    "HashedSecret",
    "OAuthClient",
    "ScimToken",
    "Site",
    "Staff",
]
