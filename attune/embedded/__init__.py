"""Embedded servers for `attune up` and the test fixtures: NATS and PostgreSQL from wheels."""
