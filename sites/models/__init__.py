from .alerts import SiteAlert
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
from .tenancy import MSP, Site, Staff, StaffEvent

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
    "SiteAlert",
    "Staff",
    "StaffEvent",
]
