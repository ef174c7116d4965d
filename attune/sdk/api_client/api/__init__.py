"""Operations by domain, one module each (`attune.api_client.api.packs`, ...). Modules
are imported on demand, not here. Each operation is an `Endpoint` with `sync`,
`sync_detailed`, `asyncio` and `asyncio_detailed`."""
