"""Polling sensors: `poll(rule)` runs every interval for each enabled rule — one thread
per rule (`PollingSensor`) or one asyncio task per rule (`AsyncPollingSensor`).

The interval of a rule is the first of its `trigger_params` `interval`,
`interval_seconds`, `poll_interval` that is a number, else the sensor's `interval`.
A poll that raises is logged and the next one runs as usual. Rule hooks start, stop and
restart the pollers (call `super()` when overriding them). Pollers start once `setup()`
is done, so they see what it prepared.
"""

from __future__ import annotations

import inspect
import threading
from typing import TYPE_CHECKING, Any

from attune.sdk.rules import RuleState
from attune.sdk.sensor import Sensor

if TYPE_CHECKING:
    import asyncio

STOP_JOIN_SECONDS = 15.0


def rule_interval(rule: RuleState, default: float) -> float:
    for key in ("interval", "interval_seconds", "poll_interval"):
        value = rule.trigger_params.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return default


class PollingSensor(Sensor):
    interval: float = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pollers: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._pollers_lock = threading.Lock()
        self._polling = False

    def poll(self, rule: RuleState) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define poll(self, rule)")

    def on_rule_created(self, rule: RuleState) -> None:
        self._start_poller(rule)

    def on_rule_disabled(self, rule: RuleState) -> None:
        self._stop_poller(rule.rule_id)

    def on_rule_updated(self, rule: RuleState, old_params: dict[str, Any]) -> None:
        self._stop_poller(rule.rule_id)
        self._start_poller(rule)

    def run(self) -> None:
        self._polling = True
        for rule in self.rules.values():
            if rule.enabled:
                self._start_poller(rule)
        super().run()

    def _cleanup_sync(self) -> None:
        for rule_id in list(self._pollers):
            self._stop_poller(rule_id)
        super()._cleanup_sync()

    def _start_poller(self, rule: RuleState) -> None:
        if not self._polling or self.is_shutting_down:
            return
        with self._pollers_lock:
            if rule.rule_id in self._pollers:
                return
            stop = threading.Event()
            thread = threading.Thread(target=self._poll_loop, args=(rule.rule_id, stop),
                                      name=f"poll-{rule.rule_ref}", daemon=True)
            self._pollers[rule.rule_id] = (thread, stop)
        thread.start()

    def _stop_poller(self, rule_id: int) -> None:
        with self._pollers_lock:
            entry = self._pollers.pop(rule_id, None)
        if entry is None:
            return
        thread, stop = entry
        stop.set()
        # Wait for the poll in progress, so a restarted poller never overlaps the old one.
        if thread is not threading.current_thread():
            thread.join(STOP_JOIN_SECONDS)

    def _poll_loop(self, rule_id: int, stop: threading.Event) -> None:
        while not stop.is_set() and not self.is_shutting_down:
            rule = self.rule(rule_id)
            if rule is None or not rule.enabled:
                return
            try:
                self.poll(rule)
            except Exception:
                self.logger.exception("poll failed", extra={"rule_ref": rule.rule_ref})
            if stop.wait(rule_interval(rule, self.interval)):
                return


class AsyncPollingSensor(Sensor):
    """`async def setup/poll/cleanup`; the polls run as tasks of one event loop. Rule
    hooks may arrive from the notifier thread: they are handed to the loop."""

    interval: float = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def setup(self) -> None:  # type: ignore[override]
        """Called once in the event loop before polling starts."""

    async def cleanup(self) -> None:  # type: ignore[override]
        """Called once in the event loop after polling stopped."""

    async def poll(self, rule: RuleState) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define async poll(self, rule)")

    async def async_emit(self, payload: dict[str, Any], **kwargs: Any) -> int | None:
        """`emit` without blocking the loop (same arguments)."""
        import asyncio

        return await asyncio.to_thread(self.emit, payload, **kwargs)

    @property
    def async_http_client(self) -> Any:
        """The API client; use its `aget`/`apost`/... coroutines."""
        return self.http_client

    def on_rule_created(self, rule: RuleState) -> None:
        self._in_loop(self._start_task, rule.rule_id)

    def on_rule_disabled(self, rule: RuleState) -> None:
        self._in_loop(self._stop_task, rule.rule_id)

    def on_rule_updated(self, rule: RuleState, old_params: dict[str, Any]) -> None:
        self._in_loop(self._restart_task, rule.rule_id)

    def _setup_sync(self) -> None:
        pass  # the async setup runs inside the loop, in run()

    def _cleanup_sync(self) -> None:
        pass  # the async cleanup runs inside the loop, in run()

    def run(self) -> None:
        import asyncio

        asyncio.run(self._async_run())

    async def _async_run(self) -> None:
        import asyncio

        await self.setup()
        self._loop = asyncio.get_running_loop()
        try:
            for rule in self.rules.values():
                if rule.enabled:
                    self._start_task(rule.rule_id)
            # Shutdown is a threading.Event (signal handlers, other threads set it).
            while not self.is_shutting_down:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        finally:
            self._loop = None
            tasks = list(self._tasks.values())
            self._tasks.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.cleanup()

    def _in_loop(self, callback: Any, rule_id: int) -> None:
        loop = self._loop
        if loop is None:
            return  # not polling yet (or any more): run() starts the enabled rules
        import asyncio

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback(rule_id)
        else:
            loop.call_soon_threadsafe(callback, rule_id)

    def _start_task(self, rule_id: int) -> None:
        import asyncio

        if rule_id in self._tasks or self._loop is None:
            return
        self._tasks[rule_id] = asyncio.get_running_loop().create_task(self._poll_loop(rule_id))

    def _stop_task(self, rule_id: int) -> None:
        task = self._tasks.pop(rule_id, None)
        if task is not None:
            task.cancel()

    def _restart_task(self, rule_id: int) -> None:
        self._stop_task(rule_id)
        self._start_task(rule_id)

    async def _poll_loop(self, rule_id: int) -> None:
        import asyncio

        while not self.is_shutting_down:
            rule = self.rule(rule_id)
            if rule is None or not rule.enabled:
                return
            try:
                result = self.poll(rule)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger.exception("poll failed", extra={"rule_ref": rule.rule_ref})
            await asyncio.sleep(rule_interval(rule, self.interval))

