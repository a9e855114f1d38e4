"""The SCIM endpoint under /api/v2/scim: authentication, request guards, errors, views."""

SCIM_PREFIX = "/api/v2/scim"
