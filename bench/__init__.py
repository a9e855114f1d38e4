"""Benchmark of an Entra provisioning cycle against the SCIM endpoint (see README)."""
