"""examples.counter_sensor: a PollingSensor emitting 1, 2, 3... per rule of
examples.counter, every `interval` seconds of the rule (trigger_params)."""

import threading

import attune


class CounterSensor(attune.PollingSensor):
    def setup(self):
        self.counts = {}
        self.lock = threading.Lock()

    def poll(self, rule):
        with self.lock:
            start = int(rule.trigger_params.get("start", 1))
            count = self.counts[rule.rule_id] = self.counts.get(rule.rule_id, start - 1) + 1
        event_id = self.emit({"count": count, "rule_ref": rule.rule_ref}, rule=rule)
        self.logger.info("emitted", extra={"count": count, "event_id": event_id,
                                           "rule": rule.rule_ref})

    def on_rule_disabled(self, rule):
        super().on_rule_disabled(rule)
        with self.lock:
            self.counts.pop(rule.rule_id, None)


if __name__ == "__main__":
    attune.run_sensor(CounterSensor)
