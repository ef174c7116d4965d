"""Attune. `import attune` is the SDK surface for action and sensor authors and must
not pull in any server dependency (nats, asyncpg, aiohttp); servers live in
subpackages imported explicitly."""

__version__ = "0.1.0"
