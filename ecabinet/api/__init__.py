"""The REST API for ministries' systems: clients, bearer tokens, scopes, and the resources under /api/v1."""
