"""Read-model queries behind the GET routes, returning API models."""
