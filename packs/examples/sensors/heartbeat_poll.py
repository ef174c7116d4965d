"""examples.heartbeat_poll: the seed's poll-style sensor format."""

from datetime import datetime, timezone


def poll_sensor(config):
    yield {"message": config.get("message", "alive"),
           "polled_at": datetime.now(timezone.utc).isoformat()}
