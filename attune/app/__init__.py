"""Application services: load, decide, append. Shared by the API, the executor,
the worker and the CLI so each rule lives in one place."""
