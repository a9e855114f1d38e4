"""The SCIM endpoint under /api/v2/scim: authentication, request guards, errors, views;
and the OAuth 2.0 token endpoint beside it, whose access tokens it accepts."""

SCIM_PREFIX = "/api/v2/scim"
OAUTH_ENDPOINT = "/api/v2/oauth/token"
# Requests that change nothing: they run without a transaction of their own (the
# provisioning log's middleware), so an error in one has nothing to roll back.
READS = ("GET", "HEAD")
