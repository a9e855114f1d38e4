"""The MSP REST API under /api/v1/: sites, their Secret Tokens and provisioning status.

It enforces the console's rules by calling the same functions (`sites.access`,
`sites.services`, `sites.credentials`); views here only translate HTTP.
"""
