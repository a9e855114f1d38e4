"""The provisioning log: every request to the SCIM endpoint and what we answered.

Support reads it in the admin ("what did Entra send for Dana, and what did we say?"),
and the console shows a site's last request and last error from it.

- `middleware`: writes one row per request, after the answer.
- `redaction`: what of a request may be stored (no secret, capped bodies).
- `queries`: what the console and the admin ask of it.
"""
