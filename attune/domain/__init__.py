"""The pure core: domain events, aggregates as `decide`/`evolve`, no I/O imports."""
