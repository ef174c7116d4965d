"""PostgreSQL adapter: read-model schema, projectors and queries."""
