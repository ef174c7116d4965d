"""Health (at the root)."""

from attune.sdk.api_client.endpoint import Endpoint

health = Endpoint("GET", "/health", "Health")
liveness = Endpoint("GET", "/health/live", "Liveness")
readiness = Endpoint("GET", "/health/ready", "Readiness")
