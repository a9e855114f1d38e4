from .alerts import SiteAlert
from .credentials import (
    ApiKey,
    CredentialEvent,
    CredentialKind,
    CredentialState,
    HashedSecret,
    ScimToken,
)
from .tenancy import MSP, Site, Staff, StaffEvent

__all__ = [
    "MSP",
    "ApiKey",
    "CredentialEvent",
    "CredentialKind",
    "CredentialState",
    "HashedSecret",
    "ScimToken",
    "Site",
    "SiteAlert",
    "Staff",
    "StaffEvent",
]
