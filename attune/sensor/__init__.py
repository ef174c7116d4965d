"""The built-in timer sensor service (see README.md)."""
