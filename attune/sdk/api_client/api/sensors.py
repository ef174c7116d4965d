"""Sensors."""

from attune.sdk.api_client.endpoint import Endpoint

list_sensors = Endpoint("GET", "/api/v1/sensors", "List sensors")
get_sensor = Endpoint("GET", "/api/v1/sensors/{ref}", "Show a sensor")
enable_sensor = Endpoint("POST", "/api/v1/sensors/{ref}/enable", "Enable a sensor")
disable_sensor = Endpoint("POST", "/api/v1/sensors/{ref}/disable", "Disable a sensor")
list_sensor_logs = Endpoint("GET", "/api/v1/sensors/{sensor_ref}/logs", "A sensor's logs")
