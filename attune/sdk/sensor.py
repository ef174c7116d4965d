"""`Sensor`: the base of every managed sensor, and `run_sensor` which runs one.

    class FileTailSensor(attune.Sensor):
        def run(self):
            while not self.is_shutting_down:
                ...
                self.emit({"line": line})

    attune.run_sensor(FileTailSensor)

Lifecycle (`run_sensor`): SIGTERM/SIGINT ask for shutdown; the rules of
`ATTUNE_SENSOR_TRIGGERS` are loaded (hooks fire); `setup()`; a thread follows rule
changes from the notifier WebSocket (`attune.sdk.lifecycle`); `run()` (by default: wait
for shutdown); finally `cleanup()`. Exit status 0, or 1 when setup/run/cleanup raised.

Rule hooks (`on_rule_created/enabled/disabled/deleted/updated`) are called one change
at a time, from whichever thread delivered the change.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any, NoReturn

from attune.sdk.api_client.client import ApiError, AuthenticatedClient, TransportError
from attune.sdk.context import SensorContext
from attune.sdk.rules import (
    RuleChange,
    RuleState,
    parse_bootstrap,
    parse_rule_message,
    parse_trigger_types,
)

EMIT_ATTEMPTS = 3
EMIT_BACKOFF_SECONDS = 0.5


class Sensor:
    def __init__(self, context: SensorContext | None = None) -> None:
        if context is None:
            from attune.sdk.context import sensor_context

            context = sensor_context
        self.context = context
        ref = context.sensor_ref
        self.logger = logging.getLogger(f"attune.sensor.{ref}" if ref else "attune.sensor")
        self._rules: dict[int, RuleState] = {}
        self._rules_lock = threading.Lock()
        # One rule change at a time, hooks included: a hook never races another change.
        self._change_lock = threading.RLock()
        self._shutdown = threading.Event()
        self._listener: Any = None

    # -- what the sensor knows ---------------------------------------------------------
    @property
    def config(self) -> dict[str, str]:
        return self.context.config

    @property
    def is_shutting_down(self) -> bool:
        return self._shutdown.is_set()

    @property
    def rules(self) -> dict[int, RuleState]:
        """A snapshot of the rules served, by rule id (disabled ones included)."""
        with self._rules_lock:
            return dict(self._rules)

    def rule(self, rule_id: int) -> RuleState | None:
        with self._rules_lock:
            return self._rules.get(rule_id)

    @property
    def http_client(self) -> AuthenticatedClient:
        """An API client carrying the current token (rotation included). Raises
        RuntimeError when there is no token."""
        return self.context.client

    def managed_trigger_refs(self) -> list[str]:
        """The trigger types to follow: `ATTUNE_SENSOR_TRIGGER_TYPES`, else those of the
        rules known."""
        refs = parse_trigger_types(os.environ.get("ATTUNE_SENSOR_TRIGGER_TYPES"))
        if refs:
            return refs
        return sorted({r.trigger_ref for r in self.rules.values() if r.trigger_ref})

    # -- overridable ---------------------------------------------------------------------
    def setup(self) -> None:
        """Called once before `run()`."""

    def cleanup(self) -> None:
        """Called once after `run()` returned or raised."""

    def run(self) -> None:
        """The sensor's work; by default wait until shutdown is requested."""
        while not self._shutdown.wait(10.0):
            pass

    def on_rule_created(self, rule: RuleState) -> None:
        """A rule to serve (new, or first seen)."""

    def on_rule_enabled(self, rule: RuleState) -> None:
        self.on_rule_created(rule)

    def on_rule_disabled(self, rule: RuleState) -> None:
        """A rule no longer to serve (disabled, or deleted by default)."""

    def on_rule_deleted(self, rule: RuleState) -> None:
        self.on_rule_disabled(rule)

    def on_rule_updated(self, rule: RuleState, old_params: dict[str, Any]) -> None:
        self.on_rule_disabled(rule)
        self.on_rule_enabled(rule)

    # -- emitting events -----------------------------------------------------------------
    def event_body(self, payload: dict[str, Any], *, rule: RuleState | None = None,
                   trigger_ref: str | None = None, target_rule: bool | None = None,
                   instance_id: str | None = None) -> dict[str, Any]:
        """The POST /api/v1/events body. The trigger is `trigger_ref`, else the rule's,
        else the sensor's only trigger type, else the sensor ref. With a rule (and
        `target_rule` not False) the event names it (`rule_ref`): only that rule
        considers it. `instance_id` makes the post idempotent (`trigger_instance_id`:
        the same id twice gives one event)."""
        ref = trigger_ref or (rule.trigger_ref if rule is not None else "")
        if not ref:
            managed = self.managed_trigger_refs()
            ref = managed[0] if len(managed) == 1 else self.context.sensor_ref
        body: dict[str, Any] = {"trigger_ref": ref, "payload": payload}
        if rule is not None and target_rule is not False:
            body["rule_ref"] = rule.rule_ref
        if instance_id:
            body["trigger_instance_id"] = instance_id
        return body

    def emit(self, payload: dict[str, Any], *, rule: RuleState | None = None,
             trigger_ref: str | None = None, target_rule: bool | None = None,
             instance_id: str | None = None) -> int | None:
        """Post an event; return its id, or None when the API refused it (logged).
        Unreachable API and 5xx answers are retried with backoff. Raises RuntimeError
        when the sensor has no API token."""
        body = self.event_body(payload, rule=rule, trigger_ref=trigger_ref,
                               target_rule=target_rule, instance_id=instance_id)
        for attempt in range(1, EMIT_ATTEMPTS + 1):
            try:
                answer = self.http_client.post("/api/v1/events", json=body)
            except TransportError as exc:
                failure: str = str(exc)
            except ApiError as exc:
                if exc.status < 500:
                    self.logger.error("event refused by the API",
                                      extra={"status": exc.status, "error": exc.message,
                                             "trigger_ref": body["trigger_ref"]})
                    return None
                failure = str(exc)
            else:
                data = answer.get("data") if isinstance(answer, dict) else None
                event_id = data.get("id") if isinstance(data, dict) else None
                return event_id if isinstance(event_id, int) else None
            if attempt < EMIT_ATTEMPTS and not self._shutdown.wait(
                    EMIT_BACKOFF_SECONDS * 2 ** (attempt - 1)):
                continue
            self.logger.error("event not posted", extra={"error": failure,
                                                         "trigger_ref": body["trigger_ref"]})
        return None

    def shutdown(self) -> None:
        """Ask the sensor to stop (what SIGTERM does)."""
        self._shutdown.set()

    # -- rule changes --------------------------------------------------------------------
    def handle_rule_message(self, message: dict[str, Any]) -> None:
        """Apply one lifecycle message (notifier payload or bootstrap item as a message)."""
        change = parse_rule_message(message)
        if change is None:
            self.logger.warning("ignored rule message", extra={"rule_message": message})
            return
        self.apply_rule_change(change)

    def _store(self, rule: RuleState) -> None:
        with self._rules_lock:
            self._rules[rule.rule_id] = rule

    def apply_rule_change(self, change: RuleChange) -> None:
        with self._change_lock:
            rule = change.rule
            old = self.rule(rule.rule_id)
            if change.kind in ("created", "enabled"):
                self._created_or_enabled(change, old)
            elif change.kind == "disabled":
                if old is None:
                    rule.enabled = False
                    self._store(rule)
                    return
                old.enabled = False
                self._store(old)
                self.on_rule_disabled(old)
            elif change.kind == "deleted":
                with self._rules_lock:
                    gone = self._rules.pop(rule.rule_id, None)
                if gone is not None:
                    self.on_rule_deleted(gone)
            else:
                self._updated(change, old)

    def _created_or_enabled(self, change: RuleChange, old: RuleState | None) -> None:
        rule = change.rule
        if change.active is False:
            rule.enabled = False
            self._store(rule)
            if old is not None and old.enabled:
                self.on_rule_disabled(rule)
            return
        self._store(rule)
        if old is not None and old.enabled and (old.trigger_params != rule.trigger_params
                                                or old.trigger_ref != rule.trigger_ref):
            self.on_rule_updated(rule, old.trigger_params)
        elif old is not None and old.enabled:
            return  # the same rule announced again: nothing changed
        elif old is not None and change.kind == "enabled":
            self.on_rule_enabled(rule)
        else:
            self.on_rule_created(rule)

    def _updated(self, change: RuleChange, old: RuleState | None) -> None:
        rule = change.rule
        if old is None:
            self._store(rule)
            if rule.enabled:
                self.on_rule_created(rule)
            return
        if change.active is None:
            rule.enabled = old.enabled
        self._store(rule)
        if old.enabled and not rule.enabled:
            self.on_rule_disabled(rule)
        elif rule.enabled and not old.enabled:
            self.on_rule_enabled(rule)
        elif rule.enabled and (old.trigger_params != rule.trigger_params
                               or old.trigger_ref != rule.trigger_ref):
            self.on_rule_updated(rule, old.trigger_params)

    def _bootstrap_rules(self) -> None:
        for rule in parse_bootstrap(os.environ.get("ATTUNE_SENSOR_TRIGGERS")):
            self.apply_rule_change(RuleChange("created", rule, rule.enabled))

    # -- lifecycle -----------------------------------------------------------------------
    def _setup_sync(self) -> None:
        self.setup()

    def _cleanup_sync(self) -> None:
        self.cleanup()

    def _start_lifecycle_listener(self) -> None:
        if not self.managed_trigger_refs():
            return
        from attune.sdk.lifecycle import LifecycleListener

        self._listener = LifecycleListener(self)
        self._listener.start()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread

        def stop(signum: int, _frame: Any) -> None:
            self.logger.info("shutdown requested", extra={"signal": signum})
            self._shutdown.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def _run_lifecycle(self) -> int:
        self._install_signal_handlers()
        status = 0
        try:
            self._bootstrap_rules()
            self._setup_sync()
            self._start_lifecycle_listener()
            active = [r.rule_ref for r in self.rules.values() if r.enabled]
            self.logger.info("Sensor started", extra={"active_rules": active})
            self.run()
        except Exception:
            self.logger.exception("sensor failed")
            status = 1
        finally:
            self._shutdown.set()
            try:
                self._cleanup_sync()
            except Exception:
                self.logger.exception("sensor cleanup failed")
                status = 1
            if self._listener is not None:
                self._listener.stop(timeout=5.0)
            self.logger.info("Sensor stopped", extra={"status": status})
        return status


def run_sensor(sensor_class: type[Sensor]) -> NoReturn:
    """Run a sensor class as this process's sensor and exit with its status."""
    import sys

    from attune.sdk import jsonlog
    from attune.sdk.context import sensor_context

    jsonlog.configure(sensor_context.sensor_ref, sensor_context.log_level)
    started = time.monotonic()
    status = sensor_class()._run_lifecycle()
    logging.getLogger("attune.sensor").debug(
        "lifecycle ended", extra={"seconds": round(time.monotonic() - started, 3)})
    sys.exit(status)
