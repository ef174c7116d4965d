"""Route handlers, one module per resource, each exporting its `ROUTES`."""
