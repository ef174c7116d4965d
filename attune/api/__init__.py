"""The HTTP API (aiohttp): one route table (`attune.api.routes`) from which the
server, the permission checks and the OpenAPI document are all derived."""
