"""The SCIM resources: what a User and a Group are and how they change.

- `attributes`: the attribute table everything else reads.
- `values`: a client's values checked and brought to the stored form.
- `documents`: POST/PUT bodies and PATCH operations applied to a stored document.
- `users`, `groups`: the resources to and from our rows (members are rows).
- `filters` (with `json_queries`): SCIM filters as site-scoped database queries.
- `projection`: `attributes` / `excludedAttributes`.
- `schemas`: the discovery documents.
"""
