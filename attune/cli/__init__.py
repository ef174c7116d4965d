"""The `attune` command line."""
